// The contract between stream storage (core/streams, on SQLite) and the tiering pipeline
// (core/tiering): which sealed segments are still local, how to read them, and how an upload is
// recorded. Offload order (DESIGN.md §5): put object -> markOffloaded (manifest row + local rows
// deleted, one transaction). A crash between the two re-uploads the same key (same bytes), so
// nothing is lost and nothing is duplicated.
import type { StreamRecord } from './stream-record.ts'
import type { SegmentIndex } from '../tiering/segment-index.ts'

export type SegmentState = 'open' | 'sealed' | 'offloaded'

export interface StreamSegment {
  /** queues.id of the stream. */
  readonly streamId: number
  readonly vhost: string
  readonly stream: string
  readonly firstOffset: number
  readonly lastOffset: number
  readonly records: number
  /** Bytes of the records (bodies + keys + properties) as stored locally. */
  readonly bytes: number
  readonly firstTimestampMs: number
  readonly lastTimestampMs: number
  readonly state: SegmentState
  /** Set once offloaded. */
  readonly objectKey: string | null
  readonly index: SegmentIndex | null
}

export interface TieredStreamStore {
  /** Sealed segments whose records are still local, oldest (by lastTimestampMs) first, all streams. */
  sealedLocal(): StreamSegment[]
  /** Records firstOffset..lastOffset (inclusive) of a stream from the local tier, in order. */
  readLocal(streamId: number, firstOffset: number, lastOffset: number): StreamRecord[]
  /** After a successful put: manifest row (offloaded, key, index) and local records deleted in one commit. Idempotent. */
  markOffloaded(segment: StreamSegment, objectKey: string, index: SegmentIndex): Promise<void>
  /** The manifest of one stream: offloaded segments in offset order. */
  offloaded(streamId: number): StreamSegment[]
  /** Retention removed an offloaded segment's object: its manifest row goes. */
  forgetOffloaded(segment: StreamSegment): Promise<void>
  /** Bytes of stream records held locally (all streams), for tiering.localBytesMax. */
  localBytes(): number
}

/** Reads an offloaded range back (core/tiering/cold-reader.ts implements it). */
export interface ColdReads {
  /** Up to maxRecords records from fromOffset, within the offloaded segment that holds fromOffset. */
  read(segment: StreamSegment, fromOffset: number, maxRecords: number): Promise<StreamRecord[]>
}
