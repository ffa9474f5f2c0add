// The part of a durable queue's backlog that is not held in memory (storage.queueMemoryMessagesMax),
// as RabbitMQ's classic queues keep only the head of a long queue in memory. A queue of this kind
// is, in seq order: its ready list (in memory, delivered from), then the paged-out entries (in the
// store only: a seq range and its count and bytes), then the entries taken since paging began that
// are still in memory (`held`). A held entry is paged out once its row is written: a transient
// message's too, which is written only because it is held (marked transient, so a restart drops
// it, as RabbitMQ's classic queues page transient messages out and lose them on restart). The
// ready list is refilled from the store in batches as it drains.
// Without it, a long outage of a bridge's remote or an MQTT session offline for days filled the
// heap (the memory watermark then refused publishers), and a restart read the whole backlog back.
import type { StoredEntry } from './durable-store.ts'
import type { Queue } from './queue.ts'
import type { QueueEntry } from './queue-entry.ts'
import { ReadyList } from './ready-list.ts'

/** How a queue reads its paged-out entries back and drops them (the durable store's). */
export interface EntryPager {
  /** The queue's stored entries with afterSeq < seq <= toSeq, in seq order, at most `limit`. */
  readEntries(queue: Queue, afterSeq: number, toSeq: number, limit: number): StoredEntry[]
  /** Deletes the queue's stored entries with fromSeq <= seq <= toSeq (a purge of paged-out ones). Queued as every write. */
  removeEntryRange(queue: Queue, fromSeq: number, toSeq: number): void
}

/** Paging as configured for the node; null in a queue that does not page (transient, priority, memory-only store). */
export interface QueuePaging {
  readonly pager: EntryPager
  /** storage.queueMemoryMessagesMax: ready messages a queue holds in memory before the rest wait in the store. */
  readonly memoryMessagesMax: number
  /**
   * storage.idleQueueMemoryMessagesMax (at least 1, at most memoryMessagesMax): the same for a queue
   * without consumers, and what a restart reads back per queue. Without it, every MQTT session offline
   * with a backlog held 10,000 messages in memory, and a few hundred of them filled the heap.
   */
  readonly idleMemoryMessagesMax: number
}

/** What a restart left in the store beyond the entries it loaded. */
export interface PagedSummary {
  readonly count: number
  readonly bytes: number
  readonly firstSeq: number
  readonly lastSeq: number
  /** Of them, those at or below the queue's delivered watermark: possibly delivered before the stop. */
  readonly possiblyDelivered: number
}

/**
 * Rows read back at a time. A read blocks the event loop for about 2.5 µs a row (mostly the two
 * Buffers better-sqlite3 makes of each row's blobs; the join itself is about 0.1 µs), whatever the
 * batch: 256 keeps each stall near 0.6 ms, where 1,024 made every other client wait about 3 ms.
 */
export const PAGE_IN_BATCH = 256

export class PagedTail {
  /** Entries in the store only: seq in (readSeq, lastSeq], `count` of them, `bytes` of body. */
  count = 0
  bytes = 0
  readSeq = 0
  lastSeq = 0
  /** Entries taken since paging began and still in memory, after the paged-out ones. */
  readonly held = new ReadyList<QueueEntry>()
  heldBytes = 0
  /**
   * Entries up to this seq may have been delivered before the restart that paged them out: they
   * come back marked redelivered (the queue's stored delivered watermark at start).
   */
  redeliveredUpTo = 0
  /** Entries left in the store at start that may have been delivered before it (they come back redelivered). */
  possiblyDeliveredAtStart = 0

  /** Messages behind the ready list. */
  get length(): number {
    return this.count + this.held.length
  }

  get totalBytes(): number {
    return this.bytes + this.heldBytes
  }

  /** Entries with seq in [firstSeq, lastSeq] left in the store at start. */
  restored(summary: PagedSummary, deliveredSeq: number): void {
    this.count = summary.count
    this.bytes = summary.bytes
    this.readSeq = summary.firstSeq - 1
    this.lastSeq = summary.lastSeq
    this.redeliveredUpTo = deliveredSeq
    this.possiblyDeliveredAtStart = summary.possiblyDelivered
  }

  hold(entry: QueueEntry): void {
    this.held.push(entry)
    this.heldBytes += entry.message.bodyBytes
    this.pageOut()
  }

  /** Held entries whose rows are written leave memory, oldest first, up to the first that is not. */
  pageOut(): void {
    for (;;) {
      const e = this.held.peek()
      if (e === undefined || !e.stored) return
      this.held.shift()
      const size = e.message.bodyBytes
      this.heldBytes -= size
      if (this.count === 0) this.readSeq = e.seq - 1
      this.count++
      this.bytes += size
      this.lastSeq = e.seq
    }
  }

  /**
   * Ready entries that leave memory again, in seq order: every one stored, never handed out, and
   * before everything paged out or held (the ready list's tail).
   */
  release(entries: readonly QueueEntry[]): void {
    const first = entries[0]
    const last = entries[entries.length - 1]
    if (first === undefined || last === undefined) return
    let bytes = 0
    for (const e of entries) bytes += e.message.bodyBytes
    if (this.count === 0) this.lastSeq = last.seq
    this.readSeq = first.seq - 1
    this.count += entries.length
    this.bytes += bytes
  }

  /** The next held entry, once nothing is paged out before it. */
  takeHeld(): QueueEntry | undefined {
    if (this.count > 0) return undefined
    const e = this.held.shift()
    if (e !== undefined) this.heldBytes -= e.message.bodyBytes
    return e
  }

  /** Entries read back: the range starts after the last of them. */
  readBack(lastSeq: number, entries: number, bytes: number): void {
    this.readSeq = lastSeq
    this.count -= entries
    this.bytes -= bytes
    if (this.count <= 0 || this.readSeq >= this.lastSeq) this.forgetPaged()
  }

  /** Nothing is paged out any more (read back, purged, or found missing). */
  forgetPaged(): void {
    this.count = 0
    this.bytes = 0
  }

  /** Empties it; returns the held entries (the caller removes them) and the paged range, if any. */
  clear(): { held: QueueEntry[]; range: { fromSeq: number; toSeq: number } | null; count: number } {
    const range = this.count > 0 ? { fromSeq: this.readSeq + 1, toSeq: this.lastSeq } : null
    const count = this.count
    this.forgetPaged()
    this.heldBytes = 0
    return { held: this.held.clear(), range, count }
  }
}
