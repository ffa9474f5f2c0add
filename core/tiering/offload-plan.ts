// Which sealed local segments to upload now (DESIGN.md §5), as a pure function of what is local and
// the time: every segment older than localAge, then, oldest first, more until the local stream
// bytes are within localBytesMax. The tiering manager executes the plan; tests check it alone.
import type { StreamSegment } from '../streams/tiered-stream-store.ts'

export interface OffloadPlanInput {
  /** Sealed segments still local. */
  readonly sealed: readonly StreamSegment[]
  /** Bytes of stream records held locally, open segments included (they cannot be offloaded). */
  readonly localBytes: number
  readonly nowMs: number
  readonly localAgeSeconds: number
  readonly localBytesMax: number
}

/** The segments to offload, in upload order: oldest (by last record) first. */
export function planOffload(input: OffloadPlanInput): StreamSegment[] {
  const localAgeMs = input.localAgeSeconds * 1000
  const oldestFirst = [...input.sealed].sort((a, b) => a.lastTimestampMs - b.lastTimestampMs || a.streamId - b.streamId || a.firstOffset - b.firstOffset)
  let remainingBytes = input.localBytes
  const plan: StreamSegment[] = []
  for (const segment of oldestFirst) {
    const aged = segment.lastTimestampMs + localAgeMs <= input.nowMs
    const overSize = remainingBytes > input.localBytesMax
    if (!aged && !overSize) continue
    plan.push(segment)
    remainingBytes -= segment.bytes
  }
  return plan
}
