// A vhost: a namespace of exchanges and queues, and the operations on them. Every check that
// RabbitMQ makes on a declare, bind, delete or publish is made here, once, and failures are
// BrokerErrors (core/errors.ts) that adapters map to their protocol's codes.
import { accessRefused, invalidRequest, notFound, preconditionFailed, resourceLocked } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { RateLimitedLog } from '../rate-limited-log.ts'
import { bindingId, type Binding, type Destination } from './binding.ts'
import { Exchange, type ExchangeSpec } from './exchange.ts'
import { builtinExchanges, exchangeTypes, type ExchangeType } from './exchange-types/index.ts'
import type { Queue, QueueConsumer, QueueHost, RemovalReason } from './queue.ts'
import type { QueueEntry } from './queue-entry.ts'
import { ClassicQueue } from './classic-queue.ts'
import { queueTypeOf, refuseOtherTypesArguments, type QueueTypeContext } from './queue-types/index.ts'
import { assertEquivalent, firstDifference } from './equivalence.ts'
import { checkExchangeNameAllowed, checkQueueNameAllowed, describeExchange, describeQueue, serverNamedQueue } from './names.ts'
import { route, routingInputOf, type RoutingScope, type SinkCollector } from './routing.ts'
import { deadLetteredCopy, isDeathCycle, type DeathReason } from './dead-letter.ts'
import { messageTtlMs, type Arguments, type Message } from './message.ts'
import type { DurableStore, StoredBinding, StoredEntries, StoredExchange, StoredQueue } from './durable-store.ts'
import type { Clock } from '../clock.ts'
import { QueueTimers } from './queue-timers.ts'
import type { MessageSink } from './message-sink.ts'
import type { SqliteStreamStore } from '../streams/sqlite-stream-store.ts'
import type { FlowEnd } from './queue-flow.ts'

export interface ModelContext {
  readonly store: DurableStore
  readonly clock: Clock
  readonly logger: Logger
  /** Warnings an event may repeat per message (a dead-letter cycle cut), written once per interval. */
  readonly warnOnce: RateLimitedLog
  /** Storage of stream queues (x-queue-type stream); null: streams cannot be declared. */
  readonly streams: SqliteStreamStore | null
  /** A vhost's max-queues (RabbitMQ's vhost limit), -1 for none; every queue of the vhost counts, MQTT sessions too. */
  queuesMax(vhost: string): number
  /** storage.queueMemoryMessagesMax: ready messages a durable queue holds in memory (paged-tail.ts); 0 = all. */
  readonly queueMemoryMessagesMax: number
  /** storage.idleQueueMemoryMessagesMax: the same for a queue without consumers. */
  readonly idleQueueMemoryMessagesMax: number
  /** storage.flowStartMessages: ready messages above which a consumed queue holds its publishers (queue-flow.ts). */
  readonly flowStartMessages: number
  /** storage.flowHoldMaxMs: the longest a queue in flow holds a publisher's acknowledgement; 0: no flow. */
  readonly flowHoldMaxMs: number
}

export interface QueueDeclare {
  readonly name: string
  readonly durable: boolean
  readonly exclusive: boolean
  readonly autoDelete: boolean
  readonly arguments: Arguments
}

export interface PublishResult {
  /** Queues that took the message. */
  readonly routed: number
  /** A queue refused it (x-overflow reject-publish): the publisher gets a negative confirm. */
  readonly rejected: boolean
  /** Settles once every durable copy is committed; undefined when nothing needed storing. */
  readonly stored: Promise<void> | undefined
}

const DEATH_REASONS: ReadonlySet<RemovalReason> = new Set(['rejected', 'expired', 'maxlen', 'delivery_limit'])

export class Vhost implements RoutingScope, QueueHost {
  readonly exchanges = new Map<string, Exchange>()
  readonly queues = new Map<string, Queue>()
  /** Entries settled as acknowledged, also those taken with no-ack (the management API's ack rate). */
  ackedCount = 0
  private readonly exclusiveByOwner = new Map<object, Set<Queue>>()
  private readonly timers: QueueTimers
  private readonly sinksAttached = new Map<Exchange, Set<MessageSink>>()
  private readonly queueTypeContext: QueueTypeContext

  constructor(
    readonly name: string,
    private readonly ctx: ModelContext
  ) {
    const max = ctx.queueMemoryMessagesMax
    const paging =
      ctx.store.persistent && max > 0
        ? { pager: ctx.store, memoryMessagesMax: max, idleMemoryMessagesMax: Math.max(1, Math.min(ctx.idleQueueMemoryMessagesMax, max)) }
        : null
    const flow =
      ctx.flowHoldMaxMs > 0 && ctx.flowStartMessages > 0 ? { startMessages: ctx.flowStartMessages, holdMaxMs: ctx.flowHoldMaxMs, clock: ctx.clock } : null
    this.queueTypeContext = { host: this, streams: ctx.streams, paging, flow }
    this.timers = new QueueTimers(
      ctx.clock,
      q => {
        q.expire(this.nowMs())
        q.dispatch()
      },
      q => {
        this.removeQueue(q).catch(err => this.ctx.logger.error('expire queue failed', { vhost: this.name, queue: q.name, err }))
      }
    )
    const direct = exchangeTypes.get('direct') as ExchangeType
    this.exchanges.set('', new Exchange(name, '', direct, true, false, false, {}))
    for (const b of builtinExchanges) {
      this.exchanges.set(b.name, new Exchange(name, b.name, exchangeTypes.get(b.type) as ExchangeType, true, false, false, {}))
    }
  }

  exchangeNamed(name: string): Exchange | undefined {
    return this.exchanges.get(name)
  }
  queueNamed(name: string): Queue | undefined {
    return this.queues.get(name)
  }

  exchange(name: string): Exchange {
    const x = this.exchanges.get(name)
    if (x === undefined) throw notFound(`no ${describeExchange(this.name, name)}`)
    return x
  }

  /** A queue the owner may use: exclusive queues belong to their connection only. */
  queue(name: string, owner: object): Queue {
    const q = this.queues.get(name)
    if (q === undefined) throw notFound(`no ${describeQueue(this.name, name)}`)
    this.checkOwner(q, owner)
    return q
  }

  // ---- exchanges ------------------------------------------------------------------------------

  async declareExchange(spec: ExchangeSpec, passive: boolean): Promise<Exchange> {
    if (spec.name === '') throw accessRefused('operation not permitted on the default exchange')
    if (passive) return this.exchange(spec.name)
    const type = exchangeTypes.get(spec.type)
    if (type === undefined) throw invalidRequest(`unknown exchange type '${spec.type}'`)
    const existing = this.exchanges.get(spec.name)
    // As RabbitMQ: the reserved amq.* prefix refuses new exchanges only, so an equivalent
    // redeclare of amq.topic (what many clients do before binding to it) is declare-ok.
    if (existing === undefined) checkExchangeNameAllowed(spec.name)
    if (existing !== undefined) {
      const mine = { type: spec.type, durable: spec.durable, auto_delete: spec.autoDelete, internal: spec.internal }
      const theirs = { type: existing.type.name, durable: existing.durable, auto_delete: existing.autoDelete, internal: existing.internal }
      assertEquivalent(describeExchange(this.name, spec.name), firstDifference(mine, theirs, spec.arguments, existing.args, ['alternate-exchange']))
      return existing
    }
    const x = new Exchange(this.name, spec.name, type, spec.durable, spec.autoDelete, spec.internal, spec.arguments)
    this.exchanges.set(x.name, x)
    if (x.durable) await this.ctx.store.putExchange(x)
    return x
  }

  async deleteExchange(name: string, ifUnused: boolean): Promise<void> {
    if (name === '') throw accessRefused('operation not permitted on the default exchange')
    if (name.startsWith('amq.')) throw accessRefused(`deletion of system ${describeExchange(this.name, name)} not allowed`)
    const x = this.exchanges.get(name)
    if (x === undefined) return // idempotent, as RabbitMQ 3.x
    if (ifUnused && x.bindings.size > 0) throw preconditionFailed(`${describeExchange(this.name, name)} in use`)
    await this.removeExchange(x)
  }

  async bindExchange(destination: string, source: string, routingKey: string, args: Arguments): Promise<void> {
    if (destination === '' || source === '') throw accessRefused('operation not permitted on the default exchange')
    const dest = this.exchange(destination)
    await this.addBinding(this.exchange(source), dest, routingKey, args)
  }

  async unbindExchange(destination: string, source: string, routingKey: string, args: Arguments): Promise<void> {
    if (destination === '' || source === '') throw accessRefused('operation not permitted on the default exchange')
    const dest = this.exchange(destination)
    await this.dropBinding(this.exchange(source), dest, routingKey, args)
  }

  // ---- queues ---------------------------------------------------------------------------------

  /**
   * owner: the declaring connection (exclusive queues belong to it). reservedName: an adapter
   * declaring state it keeps under a reserved prefix (names.ts), which clients may not declare, or a
   * name the server generated (amq.gen-...) before it checked the client's permission on it.
   */
  async declareQueue(spec: QueueDeclare, owner: object, passive: boolean, reservedName = false): Promise<Queue> {
    if (passive) {
      const q = this.queue(spec.name, owner)
      this.timers.used(q)
      return q
    }
    if (spec.name !== '' && !reservedName) checkQueueNameAllowed(spec.name)
    const name = spec.name === '' ? serverNamedQueue() : spec.name
    const what = describeQueue(this.name, name)
    const existing = this.queues.get(name)
    if (existing !== undefined) {
      if (existing.exclusiveOwner !== (spec.exclusive ? owner : null)) throw this.lockedError(existing)
      const mine = { durable: spec.durable, auto_delete: spec.autoDelete }
      const theirs = { durable: existing.durable, auto_delete: existing.autoDelete }
      // The existing queue's type's own arguments alone, as rabbit_amqqueue:assert_args_equivalence.
      const compared = existing.type.queueArguments
      assertEquivalent(what, firstDifference(mine, theirs, withoutClassicType(spec.arguments), withoutClassicType(existing.args), compared))
      this.timers.used(existing)
      return existing
    }
    const queuesMax = this.ctx.queuesMax(this.name)
    if (queuesMax >= 0 && this.queues.size >= queuesMax) {
      throw preconditionFailed(`cannot declare queue '${name}': queue limit in vhost '${this.name}' (${queuesMax}) is reached`)
    }
    const declaration = {
      vhost: this.name,
      name,
      durable: spec.durable,
      exclusiveOwner: spec.exclusive ? owner : null,
      autoDelete: spec.autoDelete,
      arguments: spec.arguments
    }
    const type = queueTypeOf(spec.arguments, what)
    refuseOtherTypesArguments(type, spec.arguments, what)
    const q = type.create(declaration, this.queueTypeContext)
    this.queues.set(name, q)
    if (spec.exclusive) {
      let owned = this.exclusiveByOwner.get(owner)
      if (owned === undefined) {
        owned = new Set()
        this.exclusiveByOwner.set(owner, owned)
      }
      owned.add(q)
    }
    this.timers.used(q)
    if (q.durable && q.exclusiveOwner === null) await this.ctx.store.putQueue(q)
    return q
  }

  /** Returns the number of ready messages the queue held. Deleting a missing queue is not an error. */
  async deleteQueue(name: string, opts: { ifUnused: boolean; ifEmpty: boolean }, owner: object): Promise<number> {
    const q = this.queues.get(name)
    if (q === undefined) return 0
    this.checkOwner(q, owner)
    if (opts.ifUnused && q.consumerCount > 0) throw preconditionFailed(`${describeQueue(this.name, name)} in use`)
    if (opts.ifEmpty && q.messageCount > 0) throw preconditionFailed(`${describeQueue(this.name, name)} is not empty`)
    return await this.removeQueue(q)
  }

  purgeQueue(name: string, owner: object): number {
    return this.queue(name, owner).purge()
  }

  async bindQueue(queue: string, exchange: string, routingKey: string, args: Arguments, owner: object): Promise<void> {
    if (exchange === '') throw accessRefused('operation not permitted on the default exchange')
    const q = this.queue(queue, owner)
    await this.addBinding(this.exchange(exchange), q, routingKey, args)
  }

  async unbindQueue(queue: string, exchange: string, routingKey: string, args: Arguments, owner: object): Promise<void> {
    if (exchange === '') throw accessRefused('operation not permitted on the default exchange')
    const q = this.queue(queue, owner)
    await this.dropBinding(this.exchange(exchange), q, routingKey, args)
  }

  /** Attaches a consumer; deliveries start with the caller's queue.dispatch(). args: consume arguments (x-stream-offset). */
  consume(queue: string, consumer: QueueConsumer, owner: object, args: Arguments = {}): Queue {
    const q = this.queue(queue, owner)
    q.addConsumer(consumer, args)
    this.timers.consumed(q)
    return q
  }

  cancel(q: Queue, consumer: QueueConsumer): void {
    q.removeConsumer(consumer)
    if (q.deleted) return
    if (q.consumerCount === 0) this.timers.used(q)
    else if (q.policy.singleActiveConsumer) q.dispatch() // the next consumer is the active one now
  }

  /** basic.get: also counts as use for x-expires. */
  get(queue: string, noAck: boolean, owner: object): { queue: Queue; entry: QueueEntry | undefined } {
    const q = this.queue(queue, owner)
    this.timers.used(q)
    return { queue: q, entry: q.get(noAck) }
  }

  /** The owning connection closed: its exclusive queues go. */
  async ownerClosed(owner: object): Promise<void> {
    const owned = this.exclusiveByOwner.get(owner)
    if (owned === undefined) return
    this.exclusiveByOwner.delete(owner)
    await Promise.all([...owned].map(q => this.removeQueue(q)))
  }

  // ---- messages -------------------------------------------------------------------------------

  /** Routed by the message's routing key and its extraRoutingKeys (AMQP's CC / BCC, sender-selected distribution). */
  publish(exchange: string, message: Message): PublishResult {
    const x = this.exchange(exchange)
    if (x.internal) throw accessRefused(`cannot publish to internal ${describeExchange(this.name, exchange)}`)
    const ttl = messageTtlMs(message.properties)
    const reached: SinkCollector = { sinks: undefined }
    const queues = route(x, routingInputOf(message), this, reached)
    let sinks = reached.sinks
    const attached = this.sinksAttached.get(x)
    if (attached !== undefined)
      for (const sink of attached) {
        if (sinks?.has(sink) !== true && sink.wantsUnrouted(message)) (sinks ??= new Set()).add(sink)
      }
    return this.enqueueAll(queues, message, ttl, sinks)
  }

  /**
   * A message for one queue only, outside routing (MQTT: a retained message sent to a new
   * subscription [MQTT-3.3.1-6]); stored and dispatched as a routed one.
   */
  enqueueTo(queue: Queue, message: Message): PublishResult {
    return this.enqueueAll([queue], message, messageTtlMs(message.properties))
  }

  private enqueueAll(queues: Iterable<Queue>, message: Message, ttlMs: number | undefined, sinks?: ReadonlySet<MessageSink>): PublishResult {
    let rejected = false
    let toStore: QueueEntry[] | undefined
    let durableCopy = false
    const accepted: Queue[] = []
    const writes: Array<Promise<void>> = []
    for (const q of queues) {
      const result = q.accept(message, ttlMs)
      if (result === 'rejected') {
        rejected = true
        if (q.policy.overflow === 'reject-publish-dlx') this.deadLetter(q, message, 'maxlen')
        continue
      }
      accepted.push(q)
      q.counts.published++
      if (result.entry !== undefined) {
        ;(toStore ??= []).push(result.entry)
        if (result.entry.durable) durableCopy = true
      }
      if (result.stored !== undefined) writes.push(result.stored)
    }
    // Stored before dispatch, so the store sees insert → delivery → removal in that order.
    if (toStore !== undefined) {
      const write = this.ctx.store.putMessage(message, toStore)
      // A confirm waits for durable copies only. Transient entries a paging queue holds back are
      // written so they can leave memory; a batch's messages share one promise: one line per interval.
      if (durableCopy) writes.push(write)
      else write.catch(err => this.ctx.warnOnce.error('queue: write of held-back transient messages failed', { vhost: this.name, err }))
    }
    for (const sink of sinks ?? []) {
      const taken = sink.accept(message, durableCopy)
      if (taken !== undefined) writes.push(taken)
    }
    for (const q of accepted) {
      q.dispatch()
      q.acceptObserver?.()
      // A queue whose consumers fall behind holds the acknowledgement (queue-flow.ts).
      const held = q.flowHold()
      if (held !== undefined) writes.push(held)
    }
    const routed = accepted.length + (sinks?.size ?? 0)
    const stored = writes.length === 0 ? undefined : writes.length === 1 ? writes[0] : Promise.all(writes).then(() => {})
    return { routed, rejected, stored }
  }

  // ---- sinks (destinations outside the queue model; see message-sink.ts) ------------------------

  /** Binds a sink like a queue; in memory only (never stored). Checked as a queue binding is. */
  bindSink(exchange: string, sink: MessageSink, routingKey: string): void {
    const source = this.exchange(exchange)
    const problem = source.type.bindingProblem?.(routingKey, {})
    if (problem !== undefined) throw preconditionFailed(problem)
    this.link(source, sink, routingKey, {})
  }

  unbindSink(exchange: string, sink: MessageSink, routingKey: string): void {
    const b = this.exchanges.get(exchange)?.bindings.get(bindingId(sink, routingKey, {}))
    if (b !== undefined) this.unlink(b, [])
  }

  /** Messages published straight to this exchange are offered to sink.wantsUnrouted. */
  attachSink(exchange: string, sink: MessageSink): void {
    const x = this.exchange(exchange)
    let set = this.sinksAttached.get(x)
    if (set === undefined) {
      set = new Set()
      this.sinksAttached.set(x, set)
    }
    set.add(sink)
  }

  // ---- QueueHost ------------------------------------------------------------------------------

  nowMs(): number {
    return this.ctx.clock.nowMs()
  }

  entryRemoved(entry: QueueEntry, reason: RemovalReason): void {
    if (reason === 'acked') {
      this.ackedCount++
      entry.queue.counts.acked++
    }
    const q = entry.queue
    if (entry.stored && !q.deleted) this.ctx.store.removeEntry(entry)
    if (DEATH_REASONS.has(reason) && q.policy.deadLetterExchange !== undefined) this.deadLetter(q, entry.message, reason as DeathReason)
  }

  deliveriesCounted(entry: QueueEntry): void {
    // An entry given back before its insert ran is not stored yet: that return goes uncounted after a crash.
    if (entry.stored && !entry.queue.deleted) this.ctx.store.recordDeliveries(entry)
  }

  /** See DurableStore.reserveDelivered: entries up to seq count as possibly delivered, once committed. */
  reserveDelivered(q: Queue, seq: number): Promise<void> {
    return q.durable ? this.ctx.store.reserveDelivered(q, seq) : Promise.resolve()
  }

  entryDelivered(entry: QueueEntry, covered: boolean): void {
    entry.queue.counts.delivered++
    if (entry.durable && !covered) this.ctx.store.markDelivered(entry)
  }

  commitDelivered(q: Queue, seq: number): Promise<void> | null {
    // an exclusive queue is never stored (it dies with its connection): nothing to wait for
    if (!q.durable || q.exclusiveOwner !== null || !this.ctx.store.persistent) return null
    return this.ctx.store.reserveDelivered(q, seq).catch((err: unknown) => {
      this.ctx.logger.error('queue: commit of the delivered watermark failed', { vhost: this.name, queue: q.name, err })
      throw err
    })
  }

  /**
   * Shutdown: each queue's stored delivered watermark, reserved ahead of its deliveries, comes back
   * down to the last entry handed out, so a clean restart marks only those redelivered.
   */
  writeDeliveredWatermarks(): void {
    for (const q of this.queues.values()) {
      if (!(q instanceof ClassicQueue) || q.deleted) continue
      const seq = q.deliveredSeqBelowReserved
      if (seq === undefined) continue
      this.ctx.store
        .setDelivered(q, seq)
        .catch(err => this.ctx.logger.error('queue: delivered watermark at shutdown failed', { vhost: this.name, queue: q.name, err }))
    }
  }

  lastConsumerGone(q: Queue): void {
    this.removeQueue(q).catch(err => this.ctx.logger.error('auto-delete queue failed', { vhost: this.name, queue: q.name, err }))
  }

  pagedEntriesMissing(q: Queue, count: number): void {
    this.ctx.logger.error('queue: paged-out messages not found in the store; the queue goes on without them', {
      vhost: this.name,
      queue: q.name,
      messages: count
    })
  }

  expireAt(q: Queue, atMs: number): void {
    this.timers.expireAt(q, atMs)
  }

  /** Flow episodes ended, by how (queue-flow.ts): /metrics. */
  readonly flowEnds = { caughtUp: 0, gaveUp: 0 }

  flowEnded(q: Queue, how: FlowEnd): void {
    if (how === 'caught-up') {
      this.flowEnds.caughtUp++
      return
    }
    this.flowEnds.gaveUp++
    this.ctx.warnOnce.warn('queue flow: its consumers did not catch up within storage.flowHoldMaxMs; publishers are no longer held for it', {
      vhost: this.name,
      queue: q.name,
      ready: q.messageCount,
      consumers: q.consumerCount
    })
  }

  /** Told of every x-overflow outcome (an adapter counts and logs its own queues'). */
  readonly overflowListeners = new Set<(q: Queue, outcome: 'dropped' | 'rejected') => void>()

  overflowed(q: Queue, outcome: 'dropped' | 'rejected'): void {
    for (const l of this.overflowListeners) l(q, outcome)
  }

  /** The vhost itself is deleted: every queue and every exchange but the built-in ones, stored ones too. */
  async deleteEverything(): Promise<void> {
    this.timers.stopAll()
    await Promise.all([...this.queues.values()].map(q => this.removeQueue(q)))
    await Promise.all([...this.exchanges.values()].filter(x => x.durable && x.name !== '' && !x.name.startsWith('amq.')).map(x => this.removeExchange(x)))
  }

  /** Stops every timer (TTL, x-expires): the broker is shutting down. */
  stopTimers(): void {
    this.timers.stopAll()
  }

  // ---- restore (at start, from the durable store; no writes) ----------------------------------

  restoreExchange(s: StoredExchange): void {
    const type = exchangeTypes.get(s.type)
    if (type === undefined || this.exchanges.has(s.name)) return
    this.exchanges.set(s.name, new Exchange(this.name, s.name, type, true, s.autoDelete, s.internal, s.arguments))
  }

  /** A stored queue and the entries stored for it (in seq order). */
  restoreQueue(s: StoredQueue, entries: StoredEntries): Queue {
    const q = queueTypeOf(s.arguments, describeQueue(this.name, s.name)).restore(s, entries, this.queueTypeContext)
    this.queues.set(s.name, q)
    this.timers.used(q)
    return q
  }

  restoreBinding(s: StoredBinding): void {
    const source = this.exchanges.get(s.source)
    const dest = s.destinationKind === 'queue' ? this.queues.get(s.destination) : this.exchanges.get(s.destination)
    if (source === undefined || dest === undefined) return
    this.link(source, dest, s.routingKey, s.arguments)
  }

  // ---- internals ------------------------------------------------------------------------------

  private checkOwner(q: Queue, owner: object): void {
    if (q.exclusiveOwner !== null && q.exclusiveOwner !== owner) throw this.lockedError(q)
  }

  private lockedError(q: Queue): Error {
    return resourceLocked(
      `cannot obtain exclusive access to locked ${describeQueue(this.name, q.name)}. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`
    )
  }

  private link(source: Exchange, dest: Destination, routingKey: string, args: Arguments): Binding {
    const id = bindingId(dest, routingKey, args)
    const existing = source.bindings.get(id)
    if (existing !== undefined) return existing
    const b: Binding = { source, destination: dest, routingKey, arguments: args, id, durable: source.durable && dest.durable && source.name !== '' }
    source.bindings.set(id, b)
    source.router.add(b)
    dest.inbound.add(b)
    return b
  }

  private async addBinding(source: Exchange, dest: Destination, routingKey: string, args: Arguments): Promise<void> {
    const problem = source.type.bindingProblem?.(routingKey, args)
    if (problem !== undefined) throw preconditionFailed(problem)
    if (source.bindings.has(bindingId(dest, routingKey, args))) return
    const b = this.link(source, dest, routingKey, args)
    if (b.durable && isStoredDestination(dest)) await this.ctx.store.putBinding(b)
  }

  private async dropBinding(source: Exchange, dest: Destination, routingKey: string, args: Arguments): Promise<void> {
    const b = source.bindings.get(bindingId(dest, routingKey, args))
    if (b === undefined) return // idempotent, as RabbitMQ 3.x
    const writes: Array<Promise<void>> = []
    this.unlink(b, writes)
    if (b.durable && isStoredDestination(dest)) writes.push(this.ctx.store.deleteBinding(b))
    await Promise.all(writes)
  }

  /** Removes a binding from memory; an auto-delete source left without bindings goes too. */
  private unlink(b: Binding, writes: Array<Promise<void>>): void {
    const source = b.source
    source.bindings.delete(b.id)
    source.router.remove(b)
    b.destination.inbound.delete(b)
    if (source.autoDelete && source.bindings.size === 0 && !source.deleted) writes.push(this.removeExchange(source))
  }

  private async removeExchange(x: Exchange): Promise<void> {
    if (x.deleted) return
    x.deleted = true
    this.exchanges.delete(x.name)
    const writes: Array<Promise<void>> = []
    for (const b of x.bindings.values()) b.destination.inbound.delete(b)
    x.bindings.clear()
    for (const b of [...x.inbound]) this.unlink(b, writes)
    if (x.durable) writes.push(this.ctx.store.deleteExchange(x))
    await Promise.all(writes)
  }

  private async removeQueue(q: Queue): Promise<number> {
    if (q.deleted) return 0
    this.queues.delete(q.name)
    if (q.exclusiveOwner !== null) this.exclusiveByOwner.get(q.exclusiveOwner)?.delete(q)
    this.timers.forget(q)
    const writes: Array<Promise<void>> = []
    for (const b of [...q.inbound]) this.unlink(b, writes)
    const count = q.markDeleted()
    if (q.storeId !== null) writes.push(this.ctx.store.deleteQueue(q))
    await Promise.all(writes)
    return count
  }

  private deadLetter(q: Queue, message: Message, reason: DeathReason): void {
    const dlx = this.exchanges.get(q.policy.deadLetterExchange ?? '')
    if (dlx === undefined) return // RabbitMQ drops the message when the DLX does not exist
    const copy = deadLetteredCopy(message, q, reason, this.nowMs())
    const targets = route(dlx, routingInputOf(copy), this)
    // A cycle (back to a queue the message died in) is cut unless a consumer rejected it since it was last there.
    const deaths = copy.properties.headers?.['x-death'] as Array<Record<string, unknown>>
    const accepted: Queue[] = []
    const cut: Queue[] = []
    for (const t of targets) (isDeathCycle(deaths, t.name) ? cut : accepted).push(t)
    if (cut.length > 0) this.logDeathCycle(q, reason, deaths, cut)
    // Later, not inside the operation that removed the entry (an enqueue or a dispatch).
    queueMicrotask(() => {
      const result = this.enqueueAll(
        accepted.filter(t => !t.deleted),
        copy,
        undefined
      )
      result.stored?.catch(err => this.ctx.logger.error('dead-letter store failed', { vhost: this.name, queue: q.name, err }))
    })
  }

  /**
   * RabbitMQ logs the cycle it cuts (rabbit_dead_letter:log_cycle_once, 3.13: "Message dropped.
   * Dead-letter queues cycle detected", once per queue process and cycle); here once per interval per
   * dead-lettering queue, with the count of the ones held back, since a cycle repeats per message.
   */
  private logDeathCycle(q: Queue, reason: DeathReason, deaths: ReadonlyArray<Record<string, unknown>>, dropped: readonly Queue[]): void {
    this.ctx.warnOnce.warn(
      'dead-letter cycle: message dropped',
      {
        vhost: this.name,
        queue: q.name,
        reason,
        droppedFor: dropped.map(t => t.name),
        // The queues the message died in, most recent first (its x-death), the cycle it would go round.
        cycle: deaths.map(d => d.queue)
      },
      `${this.name}\u0000${q.name}`
    )
  }
}

function isStoredDestination(d: Destination): boolean {
  return d.kind === 'exchange' || (d.kind === 'queue' && d.exclusiveOwner === null)
}

/** x-queue-type 'classic' is what a queue without the argument is, so the two are equivalent. */
function withoutClassicType(args: Arguments): Arguments {
  if (args['x-queue-type'] !== 'classic') return args
  const { 'x-queue-type': _classic, ...rest } = args
  return rest
}
