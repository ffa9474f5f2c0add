// What the model keeps durable, behind one interface: definitions (durable exchanges, queues,
// bindings) and persistent messages in durable queues (and, until the next start, transient ones
// a paging queue holds back: paged-tail.ts). Two implementations: none (memory only,
// for tests of the model itself) and SQLite (sqlite-durable-store.ts).
//
// Ordering contract: every call is queued in call order and applied in that order, so a removal
// asked for after an insert is applied after it. Writes resolve after their commit; a publisher
// confirm waits for putMessage's promise.
import type { Exchange } from './exchange.ts'
import type { Queue } from './queue.ts'
import type { Binding } from './binding.ts'
import type { Message } from './message.ts'
import type { QueueEntry } from './queue-entry.ts'
import type { Arguments } from './message.ts'
import type { EntryPager, PagedSummary } from './paged-tail.ts'

export interface StoredExchange {
  readonly vhost: string
  readonly name: string
  readonly type: string
  readonly autoDelete: boolean
  readonly internal: boolean
  readonly arguments: Arguments
}

export interface StoredQueue {
  readonly storeId: number
  readonly vhost: string
  readonly name: string
  readonly autoDelete: boolean
  readonly arguments: Arguments
  /** Entries with seq at or below this may have been delivered before the restart. */
  readonly deliveredSeq: number
}

export interface StoredBinding {
  readonly vhost: string
  readonly source: string
  readonly destinationKind: 'queue' | 'exchange'
  readonly destination: string
  readonly routingKey: string
  readonly arguments: Arguments
}

export interface StoredEntry {
  readonly seq: number
  readonly message: Message
  /** Times handed out and given back, as recordDeliveries stored it (queue types that count deliveries). */
  readonly deliveries: number
}

/** A stored queue's entries as its type reads them back at start. */
export interface StoredEntries {
  /** The first `limit` entries (every one when undefined), in seq order. */
  head(limit?: number): StoredEntry[]
  /** What is stored after seq `afterSeq` (left in the store by a queue that pages). */
  beyond(afterSeq: number): PagedSummary
}

export interface DurableStore extends EntryPager {
  loadExchanges(): StoredExchange[]
  loadQueues(): StoredQueue[]
  loadBindings(): StoredBinding[]
  /**
   * At start, before anything is loaded: deletes the transient entries a paging queue wrote, and
   * their messages unless another entry still references them; returns how many entries went.
   * A transient message does not outlive the process, in memory or paged out.
   */
  discardTransientEntries(): number
  /**
   * A queue's entries in seq order, the first `limit` of them when given; one Message object per
   * stored message across all queues.
   */
  loadEntries(queue: StoredQueue, messages: Map<number, Message>, limit?: number): StoredEntry[]
  /** Count, body bytes and seq range of a queue's entries after seq `afterSeq`. */
  summarizeEntries(queue: StoredQueue, afterSeq: number): PagedSummary

  putExchange(exchange: Exchange): Promise<void>
  deleteExchange(exchange: Exchange): Promise<void>
  /** Sets queue.storeId inside the write. */
  putQueue(queue: Queue): Promise<void>
  /** Deletes the queue, its entries (releasing their messages) and bindings to it. */
  deleteQueue(queue: Queue): Promise<void>
  putBinding(binding: Binding): Promise<void>
  deleteBinding(binding: Binding): Promise<void>

  /**
   * Stores a message once for the entries it was routed to that need a copy: durable ones, and
   * transient ones a paging queue holds back (stored marked transient, so they may leave memory;
   * discardTransientEntries drops them at the next start). Entries that are already gone when the
   * write runs (acked within the same commit window) are skipped.
   */
  putMessage(message: Message, entries: readonly QueueEntry[]): Promise<void>
  /** Deletes a stored entry (acked, dropped, purged). Not awaited: a lost delete is a redelivery. */
  removeEntry(entry: QueueEntry): void
  /**
   * Stores how often the entry was handed out (entry.deliveries), for a queue type that counts
   * deliveries (a quorum queue's x-delivery-count and x-delivery-limit go on after a restart). Not
   * awaited: a lost update counts one return too few.
   */
  recordDeliveries(entry: QueueEntry): void
  /**
   * Remembers that entries up to this one's seq may have been delivered. Not awaited: only for an
   * entry handed out beyond its queue's reservation (basic.get does not wait for one).
   */
  markDelivered(entry: QueueEntry): void
  /**
   * Marks entries up to seq as possibly delivered ahead of their handing out, and resolves once
   * that is committed: a consumer that sends an entry only below such a mark knows that after a
   * crash everything it may have sent comes back marked redelivered (delivered-watermark.ts, and
   * the bridge's forwarder).
   */
  reserveDelivered(queue: Queue, seq: number): Promise<void>
  /**
   * Sets the queue's delivered watermark to seq, also below a reservation: at a clean shutdown, the
   * last entry handed out, so the restart marks only entries that may really have been delivered.
   */
  setDelivered(queue: Queue, seq: number): Promise<void>
  /** False when nothing outlives the process (the memory-only store): no mark is worth waiting for. */
  readonly persistent: boolean
}

const RESOLVED = Promise.resolve()

/** No durability at all: every write is a no-op that resolves at once. */
export const memoryOnlyStore: DurableStore = {
  loadExchanges: () => [],
  loadQueues: () => [],
  loadBindings: () => [],
  discardTransientEntries: () => 0,
  loadEntries: () => [],
  summarizeEntries: () => ({ count: 0, bytes: 0, firstSeq: 0, lastSeq: 0, possiblyDelivered: 0 }),
  readEntries: () => [],
  removeEntryRange: () => {},
  putExchange: () => RESOLVED,
  deleteExchange: () => RESOLVED,
  putQueue: () => RESOLVED,
  deleteQueue: () => RESOLVED,
  putBinding: () => RESOLVED,
  deleteBinding: () => RESOLVED,
  putMessage: () => RESOLVED,
  removeEntry: () => {},
  recordDeliveries: () => {},
  markDelivered: () => {},
  reserveDelivered: () => RESOLVED,
  setDelivered: () => RESOLVED,
  persistent: false
}
