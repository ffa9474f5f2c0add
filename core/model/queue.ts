// A queue as the rest of the model and the adapters see it, whatever its type (queue-types/):
// its identity, the bindings leading to it, its consumers and the entries handed out to them.
// Each type says how it takes a published message, feeds its consumers and settles what they
// got: a classic queue (classic-queue.ts) holds entries until acked, a stream (streams/
// stream-queue.ts) is a log read from offsets. Protocol-free: a consumer is anything with a
// credit check and a deliver function; the AMQP adapter puts prefetch windows behind hasCredit().
import { accessRefused } from '../errors.ts'
import type { Arguments, Message } from './message.ts'
import type { Binding } from './binding.ts'
import type { QueueEntry } from './queue-entry.ts'
import type { QueuePolicy } from './queue-arguments.ts'
import type { QueueType } from './queue-types/queue-type.ts'
import { describeQueue } from './names.ts'
import type { FlowEnd } from './queue-flow.ts'

export interface QueueConsumer {
  readonly tag: string
  /** Entries are settled as they are handed out (AMQP no-ack, MQTT QoS 0). */
  readonly noAck: boolean
  readonly exclusive: boolean
  /** The credit hook: may this consumer take one more entry now? */
  hasCredit(): boolean
  deliver(entry: QueueEntry, redelivered: boolean): void
  /** The queue went away under the consumer (deleted); it is no longer attached. */
  cancelledByQueue(): void
  /** Its window: deliveries not yet acknowledged and the most it may hold (AMQP prefetch, MQTT Receive Maximum); max 0 = no limit. */
  creditWindow?(): ConsumerWindow
}

export interface ConsumerWindow {
  readonly unacked: number
  readonly max: number
}

/** Bound on the entries a queue tracks as redelivered (memory stays bounded in a loop over a long queue). */
const REDELIVERING_TRACKED = 10_000
const NONE_REDELIVERING: ReadonlySet<QueueEntry> = new Set()

/** Why an entry left its queue for good. */
export type RemovalReason = 'acked' | 'rejected' | 'expired' | 'maxlen' | 'delivery_limit' | 'purged' | 'deleted'

/** What a queue tells its vhost: persistence, dead-lettering, auto-delete, timers. */
export interface QueueHost {
  nowMs(): number
  entryRemoved(entry: QueueEntry, reason: RemovalReason): void
  /** An entry of a queue type that counts deliveries was given back: its count is stored. */
  deliveriesCounted(entry: QueueEntry): void
  /** An entry was handed out; covered: its delivered mark is committed already (else the host marks it). */
  entryDelivered(entry: QueueEntry, covered: boolean): void
  /**
   * Commits "entries up to seq may have been delivered" for the queue, resolving once committed
   * (delivered-watermark.ts); null when nothing would keep it: entries are handed out at once.
   */
  commitDelivered(queue: Queue, seq: number): Promise<void> | null
  lastConsumerGone(queue: Queue): void
  /** A queue that pages found fewer of its paged-out entries in the store than it counted (never expected: logged). */
  pagedEntriesMissing(queue: Queue, count: number): void
  /** Call queue.expire() at (or soon after) atMs. */
  expireAt(queue: Queue, atMs: number): void
  /** The queue applied its x-overflow policy at x-max-length(-bytes): one message dropped from the head, or refused. */
  overflowed(queue: Queue, outcome: 'dropped' | 'rejected'): void
  /** A flow episode of the queue ended (queue-flow.ts): its consumers caught up, or flow gave up on them. */
  flowEnded(queue: Queue, how: FlowEnd): void
}

/** A queue as declared (or read back): what every type is created from. */
export interface QueueDeclaration {
  readonly vhost: string
  readonly name: string
  readonly durable: boolean
  /** The connection (any object) owning an exclusive queue, or null. */
  readonly exclusiveOwner: object | null
  readonly autoDelete: boolean
  readonly arguments: Arguments
}

/**
 * A published message taken by a queue: `entry` when it is a queue entry the vhost stores
 * (persistent, durable queue; or a transient one a paging queue holds back, which no confirm
 * waits for), `stored` when the queue stores it itself (a stream's append); both settle the
 * publisher's confirm once committed. 'rejected': the queue refused it.
 */
export type Accepted = { readonly entry?: QueueEntry; readonly stored?: Promise<void> } | 'rejected'

export abstract class Queue {
  readonly kind = 'queue' as const
  readonly vhost: string
  readonly name: string
  readonly durable: boolean
  readonly exclusiveOwner: object | null
  readonly autoDelete: boolean
  readonly args: Arguments
  /** Replaced, not only pushed to, by attach(): hold no reference to it across calls. */
  consumers: QueueConsumer[] = []
  /** Bindings leading here, so a deleted queue leaves no binding behind. */
  readonly inbound = new Set<Binding>()
  /** Entries handed out and not settled yet. */
  unackedCount = 0
  /**
   * Entries handed out more than once and still in the queue (at most REDELIVERING_TRACKED):
   * /api/diagnose finds loops here. Made on the first redelivery: an idle queue (an MQTT session,
   * 10,000 on a gateway) kept an empty Set, ~0.15 KB.
   */
  private redeliveringSet: Set<QueueEntry> | null = null
  /** queues.id once a durable queue was stored. */
  storeId: number | null = null
  deleted = false
  /** Messages taken, handed out (deliveries and gets) and acknowledged since start: the management API's message_stats. */
  readonly counts = { published: 0, delivered: 0, acked: 0 }
  /**
   * Told after the queue took a published message and dispatched it: an adapter bounding a queue
   * it owns by its own rule (a bridge's backlog, adapters/bridge/backlog-bound.ts) checks it here.
   */
  acceptObserver: (() => void) | null = null
  private hadConsumer = false

  constructor(
    readonly type: QueueType,
    d: QueueDeclaration,
    /** The classic arguments this queue runs with (a stream has none of them: the neutral policy). */
    readonly policy: QueuePolicy,
    protected readonly host: QueueHost
  ) {
    this.vhost = d.vhost
    this.name = d.name
    this.durable = d.durable
    this.exclusiveOwner = d.exclusiveOwner
    this.autoDelete = d.autoDelete
    this.args = d.arguments
  }

  get redelivering(): ReadonlySet<QueueEntry> {
    return this.redeliveringSet ?? NONE_REDELIVERING
  }

  /** Messages a consumer could still get (a classic queue: ready; a stream: retained). */
  abstract get messageCount(): number

  /**
   * After a publish into this queue (and its dispatch): what the publisher's acknowledgement waits
   * for while the queue is in flow (queue-flow.ts), or undefined. Only classic (and quorum) queues have flow.
   */
  flowHold(): Promise<void> | undefined {
    return undefined
  }

  /** Whether publishers into this queue have their acknowledgements held now (queue-flow.ts). */
  get inFlow(): boolean {
    return false
  }
  /** Body bytes of those messages held locally (a stream: its local segments). */
  abstract get messageBytes(): number
  /** Bytes of this queue's data in the object store (only streams offload). */
  get coldBytes(): number {
    return 0
  }
  get consumerCount(): number {
    return this.consumers.length
  }
  get description(): string {
    return describeQueue(this.vhost, this.name)
  }

  /** Takes a published message (the vhost routed it here). Does not dispatch: the caller does, after storing. */
  abstract accept(message: Message, messageTtlMs: number | undefined): Accepted

  /**
   * Attaches a consumer with its consume arguments (a stream reads x-stream-offset); the caller
   * dispatches once it told its client (AMQP: after consume-ok).
   */
  abstract addConsumer(consumer: QueueConsumer, args: Arguments): void

  /** Hands what is there to consumers with credit, until either runs out. */
  abstract dispatch(): void

  /** basic.get: the next ready entry, handed out (settled at once with noAck). */
  abstract get(noAck: boolean): QueueEntry | undefined

  /** Settles an entry handed out: acked, or rejected without requeue. */
  abstract settle(entry: QueueEntry, reason: 'acked' | 'rejected'): void

  /** Entries handed out and not settled come back (or, in a stream, only give their credit back). */
  abstract requeue(entries: Iterable<QueueEntry>): void

  /** Removes all ready entries (handed-out ones stay); returns how many. */
  abstract purge(): number

  /** Drops entries whose TTL passed. Only a classic queue has TTLs. */
  expire(_nowMs: number): void {}

  /** An entry is handed out (again): counted, and tracked while it keeps coming back. */
  countDelivery(entry: QueueEntry): void {
    entry.deliveries++
    if (entry.deliveries > 1 && this.redelivering.size < REDELIVERING_TRACKED) (this.redeliveringSet ??= new Set()).add(entry)
  }

  /** The entry left the queue: no longer a redelivery to find. */
  protected forgetRedelivery(entry: QueueEntry): void {
    this.redeliveringSet?.delete(entry)
  }

  removeConsumer(consumer: QueueConsumer): void {
    const i = this.consumers.indexOf(consumer)
    if (i < 0) return
    this.consumers.splice(i, 1)
    this.consumerRemovedAt(i)
    if (this.consumers.length === 0 && this.autoDelete && this.hadConsumer) this.host.lastConsumerGone(this)
  }

  /** The queue is gone: consumers are told; returns the messages it held. */
  markDeleted(): number {
    this.deleted = true
    this.redeliveringSet = null
    const count = this.messageCount
    const consumers = this.consumers.splice(0)
    for (const c of consumers) c.cancelledByQueue()
    return count
  }

  /** The exclusivity checks every type makes, then the consumer is attached. */
  protected attach(consumer: QueueConsumer): void {
    if (this.consumers.some(c => c.exclusive) || (consumer.exclusive && this.consumers.length > 0)) {
      throw accessRefused(`${this.description} in exclusive use`)
    }
    // The first consumer gets an array of one: a push onto an empty array reserves 17 slots (~0.15 KB),
    // and most queues (every MQTT session) only ever have one consumer.
    if (this.consumers.length === 0) this.consumers = [consumer]
    else this.consumers.push(consumer)
    this.hadConsumer = true
  }

  /** A consumer at index i left (a round robin position moves). */
  protected consumerRemovedAt(_i: number): void {}
}
