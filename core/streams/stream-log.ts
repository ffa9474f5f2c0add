// The in-memory state of one stream: offsets given out and committed, the open segment's figures,
// the sealed and offloaded segments still retained, and where the local tier begins. SQLite holds
// the same facts (sqlite-stream-store.ts writes them); this is what reads and appends consult
// without a query.
import type { StreamSegment } from './tiered-stream-store.ts'
import type { StreamPolicy } from './stream-arguments.ts'

export interface OpenSegment {
  firstOffset: number
  records: number
  bytes: number
  firstTimestampMs: number
  lastTimestampMs: number
}

export interface StreamRef {
  readonly vhost: string
  readonly name: string
  /** queues.id of the stream, once its definition was stored. */
  readonly storeId: number | null
}

export class StreamLog {
  /** The offset the next append gets. */
  nextOffset = 0
  /** Offsets below this are committed: readable, and safe to hand to consumers. */
  committedEnd = 0
  /** Sealed (local) and offloaded segments still retained, in offset order. */
  segments: StreamSegment[] = []
  /** Offloaded segments retention dropped whose objects are not deleted yet (forgetOffloaded). */
  retired: StreamSegment[] = []
  readonly open: OpenSegment = { firstOffset: 0, records: 0, bytes: 0, firstTimestampMs: 0, lastTimestampMs: 0 }
  /** The open segment's manifest row exists (written with the first append after a seal). */
  openRowWritten = false
  /** Timestamps never go back, so a timestamp seek can stop at the first record at or after it. */
  lastTimestampMs = 0
  dropped = false
  /** A wake-up of consumers is queued for the commit being settled. */
  wakeScheduled = false
  /** Called after appends commit (consumers waiting at the end read on). */
  onCommitted: () => void = () => {}

  constructor(
    readonly ref: StreamRef,
    readonly policy: StreamPolicy
  ) {}

  get streamId(): number | null {
    return this.ref.storeId
  }

  /** The first offset still in the stream, in either tier. */
  get firstRetained(): number {
    return this.segments[0]?.firstOffset ?? this.open.firstOffset
  }

  /** The first offset held locally (below it, records are in the object store). */
  get firstLocal(): number {
    for (const s of this.segments) if (s.state !== 'offloaded') return s.firstOffset
    return this.open.firstOffset
  }

  get retainedRecords(): number {
    return this.nextOffset - this.firstRetained
  }

  /** The offloaded segment holding offset, if any. */
  offloadedAt(offset: number): StreamSegment | undefined {
    return this.segments.find(s => s.state === 'offloaded' && s.firstOffset <= offset && offset <= s.lastOffset)
  }

  /** Where a timestamp seek starts: the first segment whose newest record is at or after timestampMs. */
  seekTimestamp(timestampMs: number): number {
    for (const s of this.segments) if (s.lastTimestampMs >= timestampMs) return s.firstOffset
    return this.open.firstOffset
  }

  localBytes(): number {
    let n = this.open.bytes
    for (const s of this.segments) if (s.state === 'sealed') n += s.bytes
    return n
  }

  offloadedBytes(): number {
    let n = 0
    for (const s of this.segments) if (s.state === 'offloaded') n += s.index?.sizeBytes ?? 0
    return n
  }

  /** The open segment as a manifest entry (for sealing): it ends at the last offset given out. */
  openAsSegment(): StreamSegment {
    const o = this.open
    return {
      streamId: this.streamId ?? -1,
      vhost: this.ref.vhost,
      stream: this.ref.name,
      firstOffset: o.firstOffset,
      lastOffset: this.nextOffset - 1,
      records: o.records,
      bytes: o.bytes,
      firstTimestampMs: o.firstTimestampMs,
      lastTimestampMs: o.lastTimestampMs,
      state: 'sealed',
      objectKey: null,
      index: null
    }
  }

  /** Starts a new, empty open segment at the next offset (after the current one was sealed). */
  resetOpen(): void {
    const o = this.open
    o.firstOffset = this.nextOffset
    o.records = 0
    o.bytes = 0
    o.firstTimestampMs = 0
    o.lastTimestampMs = 0
  }
}
