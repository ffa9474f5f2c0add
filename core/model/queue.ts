// A queue: ready entries in delivery order, a count of entries handed out and not yet settled, and
// consumers served round robin while they have credit. Protocol-free: a consumer is anything with
// a credit check and a deliver function; the AMQP adapter puts prefetch windows behind hasCredit().
import { accessRefused } from '../errors.ts'
import type { Arguments, Message } from './message.ts'
import type { Binding } from './binding.ts'
import { QueueEntry } from './queue-entry.ts'
import { createReadyQueue, type ReadyQueue } from './ready-queue.ts'
import type { QueuePolicy } from './queue-arguments.ts'

export interface QueueConsumer {
  readonly tag: string
  /** Entries are settled as they are handed out (AMQP no-ack, MQTT QoS 0). */
  readonly noAck: boolean
  readonly exclusive: boolean
  /** The credit hook: may this consumer take one more entry now? */
  hasCredit (): boolean
  deliver (entry: QueueEntry, redelivered: boolean): void
  /** The queue went away under the consumer (deleted); it is no longer attached. */
  cancelledByQueue (): void
}

/** Why an entry left its queue for good. */
export type RemovalReason = 'acked' | 'rejected' | 'expired' | 'maxlen' | 'purged' | 'deleted'

/** What a queue tells its vhost: persistence, dead-lettering, auto-delete, timers. */
export interface QueueHost {
  nowMs (): number
  entryRemoved (entry: QueueEntry, reason: RemovalReason): void
  entryDelivered (entry: QueueEntry): void
  lastConsumerGone (queue: Queue): void
  /** Call queue.expire() at (or soon after) atMs. */
  expireAt (queue: Queue, atMs: number): void
}

export interface QueueSpec {
  readonly name: string
  readonly durable: boolean
  /** The connection (any object) owning an exclusive queue, or null. */
  readonly exclusiveOwner: object | null
  readonly autoDelete: boolean
  readonly arguments: Arguments
}

export type EnqueueResult = QueueEntry | 'rejected'

export class Queue {
  readonly kind = 'queue' as const
  readonly ready: ReadyQueue
  readonly consumers: QueueConsumer[] = []
  /** Bindings leading here, so a deleted queue leaves no binding behind. */
  readonly inbound = new Set<Binding>()
  unackedCount = 0
  /** Highest seq given out; seq orders entries for requeue and storage. */
  lastSeq = 0
  /** queues.id once a durable queue was stored. */
  storeId: number | null = null
  deleted = false
  private rr = 0
  private hadConsumer = false
  private dispatching = false
  private again = false

  constructor (
    readonly vhost: string,
    readonly name: string,
    readonly durable: boolean,
    readonly exclusiveOwner: object | null,
    readonly autoDelete: boolean,
    readonly args: Arguments,
    readonly policy: QueuePolicy,
    private readonly host: QueueHost
  ) {
    this.ready = createReadyQueue(policy.maxPriority)
  }

  get messageCount (): number { return this.ready.length }
  get consumerCount (): number { return this.consumers.length }

  /**
   * Appends a message; with x-max-length(-bytes) reached, drops from the head (drop-head) or
   * refuses it (reject-publish). Does not dispatch: the caller does, after storing.
   */
  enqueue (message: Message, messageTtlMs: number | undefined): EnqueueResult {
    const now = this.host.nowMs()
    this.expire(now)
    const { maxLength, maxLengthBytes, overflow } = this.policy
    const size = message.bodyBytes
    const over = (extra: number, bytes: number): boolean =>
      (maxLength !== undefined && this.ready.length + extra > maxLength) ||
      (maxLengthBytes !== undefined && this.ready.bytes + bytes > maxLengthBytes)
    if (overflow !== 'drop-head' && over(1, size)) return 'rejected'
    const ttl = minDefined(this.policy.messageTtlMs, messageTtlMs)
    const priority = Math.min(message.properties.priority ?? 0, this.policy.maxPriority ?? 0)
    const entry = new QueueEntry(this, message, ++this.lastSeq, priority, ttl === undefined ? undefined : now + ttl)
    this.ready.push(entry)
    while (over(0, 0) && this.ready.length > 0) this.remove(this.ready.shift() as QueueEntry, 'maxlen')
    if (entry.expiresAtMs !== undefined) this.host.expireAt(this, entry.expiresAtMs)
    return entry
  }

  /** An entry read back from storage at start, in seq order. */
  restore (message: Message, seq: number, redelivered: boolean, expiresAtMs: number | undefined): QueueEntry {
    const priority = Math.min(message.properties.priority ?? 0, this.policy.maxPriority ?? 0)
    const entry = new QueueEntry(this, message, seq, priority, expiresAtMs)
    entry.stored = true
    entry.redelivered = redelivered
    this.lastSeq = Math.max(this.lastSeq, seq)
    this.ready.push(entry)
    return entry
  }

  /** Attaches a consumer; the caller dispatches once it told its client (AMQP: after consume-ok). */
  addConsumer (consumer: QueueConsumer, queueDescription: string): void {
    if (this.consumers.some(c => c.exclusive) || (consumer.exclusive && this.consumers.length > 0)) {
      throw accessRefused(`${queueDescription} in exclusive use`)
    }
    this.consumers.push(consumer)
    this.hadConsumer = true
  }

  removeConsumer (consumer: QueueConsumer): void {
    const i = this.consumers.indexOf(consumer)
    if (i < 0) return
    this.consumers.splice(i, 1)
    if (this.rr > i) this.rr--
    if (this.consumers.length === 0 && this.autoDelete && this.hadConsumer) this.host.lastConsumerGone(this)
  }

  /** Hands ready entries to consumers with credit, round robin, until either runs out. */
  dispatch (): void {
    if (this.dispatching) { this.again = true; return }
    this.dispatching = true
    try {
      do {
        this.again = false
        if (this.ready.length > 0) this.expire(this.host.nowMs())
        while (this.ready.length > 0 && this.consumers.length > 0 && !this.deleted) {
          const consumer = this.nextWithCredit()
          if (consumer === undefined) break
          this.handOut(this.ready.shift() as QueueEntry, consumer)
        }
      } while (this.again)
    } finally {
      this.dispatching = false
    }
  }

  /** basic.get: the next ready entry, handed out (settled at once with noAck). */
  get (noAck: boolean): QueueEntry | undefined {
    this.expire(this.host.nowMs())
    const entry = this.ready.shift()
    if (entry === undefined) return undefined
    this.takeOut(entry, noAck)
    return entry
  }

  /** Settles an entry handed out: acked, or rejected without requeue (dead-lettered if configured). */
  settle (entry: QueueEntry, reason: 'acked' | 'rejected'): void {
    if (entry.state !== 'unacked') return
    this.unackedCount--
    this.remove(entry, reason)
  }

  /** Entries handed out go back to their places, marked redelivered. */
  requeue (entries: Iterable<QueueEntry>): void {
    let any = false
    for (const entry of entries) {
      if (entry.state !== 'unacked') continue
      this.unackedCount--
      if (this.deleted) { entry.state = 'gone'; continue }
      entry.state = 'ready'
      entry.redelivered = true
      this.ready.insert(entry)
      any = true
    }
    if (any) this.dispatch()
  }

  /** Removes all ready entries (handed-out ones stay); returns how many. */
  purge (): number {
    const all = this.ready.clear()
    for (const entry of all) this.remove(entry, 'purged')
    return all.length
  }

  /** Drops expired entries from the head (TTL expires at the head, as in RabbitMQ). */
  expire (nowMs: number): void {
    for (;;) {
      const head = this.ready.peek()
      if (head === undefined) return
      if (head.expiresAtMs === undefined || head.expiresAtMs > nowMs) {
        if (head.expiresAtMs !== undefined) this.host.expireAt(this, head.expiresAtMs)
        return
      }
      this.ready.shift()
      this.remove(head, 'expired')
    }
  }

  /** The queue is gone: consumers are told, ready entries removed; handed-out ones die with their channels. */
  markDeleted (): number {
    this.deleted = true
    const count = this.ready.length
    for (const entry of this.ready.clear()) this.remove(entry, 'deleted')
    const consumers = this.consumers.splice(0)
    for (const c of consumers) c.cancelledByQueue()
    return count
  }

  private nextWithCredit (): QueueConsumer | undefined {
    if (this.policy.singleActiveConsumer) {
      // The first consumer attached is the active one; the next takes over when it leaves.
      const active = this.consumers[0]
      return active !== undefined && active.hasCredit() ? active : undefined
    }
    const n = this.consumers.length
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n
      const c = this.consumers[i] as QueueConsumer
      if (c.hasCredit()) { this.rr = (i + 1) % n; return c }
    }
    return undefined
  }

  private handOut (entry: QueueEntry, consumer: QueueConsumer): void {
    const redelivered = entry.redelivered
    this.takeOut(entry, consumer.noAck)
    consumer.deliver(entry, redelivered)
  }

  private takeOut (entry: QueueEntry, noAck: boolean): void {
    this.host.entryDelivered(entry)
    if (noAck) {
      this.remove(entry, 'acked')
    } else {
      entry.state = 'unacked'
      this.unackedCount++
    }
  }

  private remove (entry: QueueEntry, reason: RemovalReason): void {
    entry.state = 'gone'
    this.host.entryRemoved(entry, reason)
  }
}

function minDefined (a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return Math.min(a, b)
}
