// Where one stream consumer reads: its next offset and a page read ahead. Local records come from
// paged SQLite range queries; below the first local offset they come from the object store through
// ColdReads (async). Records are taken strictly by offset (next advances to the record taken + 1),
// so crossing from the cold tier to the local one neither skips nor repeats a record.
import type { QueueConsumer } from '../model/queue.ts'
import type { StreamRecord } from './stream-record.ts'
import type { StreamLog } from './stream-log.ts'
import type { SqliteStreamStore } from './sqlite-stream-store.ts'

export class StreamCursor {
  private buffer: StreamRecord[] = []
  private coldReading = false
  /** A cold read failed and waits for its retry. */
  private coldRetrying = false
  private closed = false

  constructor(
    readonly consumer: QueueConsumer,
    private readonly log: StreamLog,
    private readonly store: SqliteStreamStore,
    /** The offset of the next record to deliver. */
    public next: number,
    /** A timestamp start: records before it are passed over (timestamps never go back). */
    private skipBeforeMs: number | undefined,
    /** Asks the queue to dispatch again (a cold read arrived). */
    private readonly wake: () => void
  ) {}

  /** Waiting for a read from the object store, or for its retry (what /api/diagnose reports as cold reads). */
  get isColdReading(): boolean {
    return this.coldReading || this.coldRetrying
  }

  close(): void {
    this.closed = true
    this.buffer = []
  }

  /** The next record, or undefined: at the end (new appends wake the queue) or waiting on a cold read. */
  take(): StreamRecord | undefined {
    const log = this.log
    for (;;) {
      if (this.next < log.firstRetained) {
        this.next = log.firstRetained
        this.buffer = []
      } // retention passed us
      const head = this.buffer.shift()
      if (head !== undefined) {
        if (head.offset < this.next) continue
        this.next = head.offset + 1
        if (this.skipBeforeMs !== undefined) {
          if (head.timestampMs < this.skipBeforeMs) continue
          this.skipBeforeMs = undefined
        }
        return head
      }
      if (this.next >= log.committedEnd) return undefined
      if (this.next >= log.firstLocal) {
        this.buffer = this.store.readPage(log, this.next)
        if (this.buffer.length > 0) continue
        // No committed row from here on: appends that failed to commit left a hole at the end.
        this.store.logger.warn('streams: no records where committed ones were expected; skipping', {
          vhost: log.ref.vhost,
          stream: log.ref.name,
          from: this.next,
          to: log.committedEnd
        })
        this.next = log.committedEnd
        return undefined
      }
      if (!this.readCold()) continue
      return undefined
    }
  }

  /** Starts a cold read at next; false when there is none to wait for (next moved to the local tier). */
  private readCold(): boolean {
    if (this.coldReading) return true
    const log = this.log
    const segment = log.offloadedAt(this.next)
    const cold = this.store.coldReads
    if (segment === undefined || cold === null) {
      this.store.logger.warn('streams: offloaded records cannot be read (tiering off or segment unknown); starting at the local tier', {
        vhost: log.ref.vhost,
        stream: log.ref.name,
        from: this.next,
        firstLocal: log.firstLocal
      })
      this.next = log.firstLocal
      return false
    }
    this.coldReading = true
    const from = this.next
    cold.read(segment, from, this.store.readPageRecords).then(
      records => {
        this.coldReading = false
        if (this.closed) return
        // An empty answer would read the same place again: go past the segment instead.
        if (records.length === 0 && this.next === from) this.next = segment.lastOffset + 1
        else this.buffer = records
        this.wake()
      },
      err => {
        this.coldReading = false
        if (this.closed) return
        this.store.logger.error('streams: cold read failed; retrying', { vhost: log.ref.vhost, stream: log.ref.name, from, err })
        this.coldRetrying = true
        this.store.clock.setTimer(() => {
          this.coldRetrying = false
          if (!this.closed) this.wake()
        }, this.store.coldReadRetryMs)
      }
    )
    return true
  }
}
