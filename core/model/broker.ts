// The broker core: vhosts of exchanges and queues, restored from the durable store at start.
// Adapters (AMQP, MQTT) talk to a Vhost; gateway/wharf-node.ts builds the Broker.
import { silentLogger, type Logger } from '../logger.ts'
import { memoryOnlyStore, type DurableStore } from './durable-store.ts'
import { systemClock, type Clock } from '../clock.ts'
import { RateLimitedLog } from '../rate-limited-log.ts'
import { Vhost, type ModelContext } from './vhost.ts'
import type { Message } from './message.ts'
import type { Queue } from './queue.ts'
import type { SqliteStreamStore } from '../streams/sqlite-stream-store.ts'

export interface BrokerOptions {
  /** Vhosts that exist; '/' is the default. */
  readonly vhosts: readonly string[]
  readonly store?: DurableStore
  readonly clock?: Clock
  readonly logger?: Logger
  /** Storage of stream queues; without it streams cannot be declared. */
  readonly streams?: SqliteStreamStore
  /** A vhost's max-queues, -1 for none (the per-vhost limits set at runtime); none when absent. */
  readonly queuesMax?: (vhost: string) => number
  /** storage.queueMemoryMessagesMax (paged-tail.ts); 0 or absent: queues hold everything in memory. */
  readonly queueMemoryMessagesMax?: number
  /** storage.idleQueueMemoryMessagesMax: the same for a queue without consumers; absent: queueMemoryMessagesMax. */
  readonly idleQueueMemoryMessagesMax?: number
  /** storage.flowStartMessages (queue-flow.ts; default 500). */
  readonly flowStartMessages?: number
  /** storage.flowHoldMaxMs (queue-flow.ts); 0 or absent: publishers are never held. */
  readonly flowHoldMaxMs?: number
  /** log.repeatIntervalSeconds in ms: a model warning that repeats is written once per interval (default 10 s). */
  readonly warnIntervalMs?: number
}

export interface RestoredCounts {
  exchanges: number
  queues: number
  bindings: number
  /** Messages read back into memory. */
  messages: number
  /** Queue entries left in the store by queues that page, read back as those queues drain. */
  pagedEntries: number
  /** Transient messages' entries a paging queue had written, dropped (a transient message does not outlive the process). */
  transientEntriesDropped: number
}

export class Broker {
  readonly vhosts = new Map<string, Vhost>()
  readonly restored: RestoredCounts = { exchanges: 0, queues: 0, bindings: 0, messages: 0, pagedEntries: 0, transientEntriesDropped: 0 }
  private readonly ctx: ModelContext

  constructor(opts: BrokerOptions) {
    const clock = opts.clock ?? systemClock
    const logger = opts.logger ?? silentLogger
    this.ctx = {
      store: opts.store ?? memoryOnlyStore,
      clock,
      logger,
      warnOnce: new RateLimitedLog(logger, opts.warnIntervalMs ?? 10_000, clock),
      streams: opts.streams ?? null,
      queuesMax: opts.queuesMax ?? (() => -1),
      queueMemoryMessagesMax: opts.queueMemoryMessagesMax ?? 0,
      idleQueueMemoryMessagesMax: opts.idleQueueMemoryMessagesMax ?? opts.queueMemoryMessagesMax ?? 0,
      flowStartMessages: opts.flowStartMessages ?? 500,
      flowHoldMaxMs: opts.flowHoldMaxMs ?? 0
    }
    for (const name of opts.vhosts) this.vhosts.set(name, new Vhost(name, this.ctx))
    this.restore()
  }

  vhost(name: string): Vhost | undefined {
    return this.vhosts.get(name)
  }

  /**
   * Every queue of every vhost. forEach, not for...of: the samplers that walk all queues run every few
   * seconds, too rarely for V8 to optimise them, and in the interpreter a for...of allocates an
   * iterator result per queue (10,000 MQTT sessions: ~0.3 MB per walk).
   */
  forEachQueue(visit: (queue: Queue) => void): void {
    this.vhosts.forEach(v => v.queues.forEach(q => visit(q)))
  }

  /** A vhost created at runtime (the access store added it): empty but for the default exchanges. */
  addVhost(name: string): Vhost {
    let v = this.vhosts.get(name)
    if (v === undefined) {
      v = new Vhost(name, this.ctx)
      this.vhosts.set(name, v)
    }
    return v
  }

  /** A vhost deleted at runtime: its queues (with their messages), exchanges and bindings go, stored ones too. */
  async deleteVhost(name: string): Promise<void> {
    const v = this.vhosts.get(name)
    if (v === undefined) return
    this.vhosts.delete(name)
    await v.deleteEverything()
  }

  /** Storage of stream queues (the tiering pipeline works on it as a TieredStreamStore), or null. */
  get streams(): SqliteStreamStore | null {
    return this.ctx.streams
  }

  get nowMs(): number {
    return this.ctx.clock.nowMs()
  }

  /** The model's clock (TTL, expiry), which adapters share. */
  get clock(): Clock {
    return this.ctx.clock
  }

  /** Shutdown: no timer fires any more; the real delivered watermarks are queued (the store closes after this, committing them). */
  close(): void {
    for (const v of this.vhosts.values()) {
      v.stopTimers()
      v.writeDeliveredWatermarks()
    }
    this.ctx.streams?.close()
    this.ctx.warnOnce.close()
  }

  /** Durable definitions, then entries; objects of vhosts no longer configured stay stored, untouched. */
  private restore(): void {
    const { store } = this.ctx
    this.restored.transientEntriesDropped = store.discardTransientEntries()
    for (const x of store.loadExchanges()) {
      const v = this.vhosts.get(x.vhost)
      if (v === undefined) continue
      v.restoreExchange(x)
      this.restored.exchanges++
    }
    const messages = new Map<number, Message>()
    for (const sq of store.loadQueues()) {
      const v = this.vhosts.get(sq.vhost)
      if (v === undefined) continue
      let paged = 0
      const q = v.restoreQueue(sq, {
        head: limit => store.loadEntries(sq, messages, limit),
        beyond: afterSeq => {
          const summary = store.summarizeEntries(sq, afterSeq)
          paged += summary.count
          return summary
        }
      })
      this.restored.queues++
      this.restored.pagedEntries += q.deleted ? 0 : paged
    }
    this.restored.messages = messages.size
    for (const b of store.loadBindings()) {
      const v = this.vhosts.get(b.vhost)
      if (v === undefined) continue
      v.restoreBinding(b)
      this.restored.bindings++
    }
  }
}
