// Retention of a stream, as RabbitMQ applies x-max-age and x-max-length-bytes: whole segments go,
// oldest first, never the open one. Bytes count both tiers (local and offloaded), so moving a
// segment to object storage does not extend how much a stream keeps.

export interface RetentionPolicy {
  readonly maxAgeMs: number | undefined
  readonly maxLengthBytes: number | undefined
}

export interface SegmentFigures {
  readonly bytes: number
  readonly lastTimestampMs: number
}

/**
 * How many of the oldest sealed segments (in offset order) retention drops now: those whose newest
 * record is older than maxAgeMs, and then as many as it takes to bring the stream (these segments
 * plus openBytes of the open segment) to maxLengthBytes or below.
 */
export function segmentsToDrop(segments: readonly SegmentFigures[], openBytes: number, policy: RetentionPolicy, nowMs: number): number {
  let total = openBytes
  for (const s of segments) total += s.bytes
  let dropped = 0
  for (const s of segments) {
    const tooOld = policy.maxAgeMs !== undefined && s.lastTimestampMs < nowMs - policy.maxAgeMs
    const tooBig = policy.maxLengthBytes !== undefined && total > policy.maxLengthBytes
    if (!tooOld && !tooBig) break
    total -= s.bytes
    dropped++
  }
  return dropped
}
