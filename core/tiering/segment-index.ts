// What a sealed segment holds and where each block lies in its object: written into the segment
// itself (so it is readable without Wharf) and kept in the local manifest (so a cold read needs no
// extra GET to find a block). Format: core/tiering/SEGMENT-FORMAT.md.

export interface SegmentHeader {
  readonly format: 'wharf-segment'
  readonly version: 1
  readonly vhost: string
  readonly stream: string
  readonly firstOffset: number
  readonly lastOffset: number
  readonly records: number
  readonly createdAtMs: number
}

/** One independently compressed block: one ranged GET fetches it. */
export interface SegmentBlock {
  readonly firstOffset: number
  readonly lastOffset: number
  readonly records: number
  readonly firstTimestampMs: number
  readonly lastTimestampMs: number
  /** Byte position of the block in the segment object. */
  readonly byteOffset: number
  readonly byteLength: number
}

export interface SegmentIndex {
  readonly header: SegmentHeader
  readonly blocks: readonly SegmentBlock[]
  /** Size of the whole segment object. */
  readonly sizeBytes: number
}
