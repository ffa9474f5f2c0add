// Queue types are small modules behind one interface, registered by name (see index.ts), as
// exchange types are: a declaration's x-queue-type picks one (classic when absent), and the type
// checks the declaration and builds the queue. The rest of the model only sees a Queue.
import type { Queue, QueueDeclaration, QueueHost } from '../queue.ts'
import type { StoredEntries, StoredQueue } from '../durable-store.ts'
import type { QueuePaging } from '../paged-tail.ts'
import type { SqliteStreamStore } from '../../streams/sqlite-stream-store.ts'
import type { QueueFlowSettings } from '../queue-flow.ts'

export interface QueueTypeContext {
  readonly host: QueueHost
  /** Storage of stream queues; null: this broker has none. */
  readonly streams: SqliteStreamStore | null
  /** Paging of long durable queues (storage.queueMemoryMessagesMax); null: queues hold everything in memory. */
  readonly paging: QueuePaging | null
  /** Flow of classic and quorum queues (queue-flow.ts); null: publishers are never held. */
  readonly flow: QueueFlowSettings | null
}

export interface QueueType {
  readonly name: string
  /**
   * The arguments that belong to this type, as RabbitMQ 3.13's capabilities() queue_arguments lists
   * them for it: a redeclare compares these (rabbit_amqqueue:assert_args_equivalence), and a new
   * queue may carry none that belongs only to other types (check_declare_arguments, see index.ts).
   */
  readonly queueArguments: readonly string[]
  /**
   * Its consumers must have a bounded credit window (AMQP: a consumer prefetch), as RabbitMQ asks
   * of stream consumers: what they read is not taken off a queue, so nothing else bounds it.
   */
  readonly consumersNeedCreditWindow: boolean
  /**
   * Every message it takes is stored, whatever its delivery mode (a quorum queue's log keeps them
   * all); otherwise only persistent ones are (a classic queue).
   */
  readonly storesEveryMessage: boolean
  /** A message handed out again says how often it was given back before (RabbitMQ's x-delivery-count, quorum queues). */
  readonly countsDeliveries: boolean
  /** A new queue; the declaration is checked as RabbitMQ checks it for this type. */
  create(d: QueueDeclaration, ctx: QueueTypeContext): Queue
  /** A stored queue read back at start, with the entries stored for it (in seq order). */
  restore(s: StoredQueue, entries: StoredEntries, ctx: QueueTypeContext): Queue
}

/** The declaration of a stored queue (stored queues are durable and never exclusive). */
export function storedDeclaration(s: StoredQueue): QueueDeclaration {
  return { vhost: s.vhost, name: s.name, durable: true, exclusiveOwner: null, autoDelete: s.autoDelete, arguments: s.arguments }
}
