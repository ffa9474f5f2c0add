/**
 * Benchmark payload: publisher id (u32), sequence (u32), send time in ns (u64, only set by the
 * latency scenario), zero padding up to the payload size.
 */
export const PAYLOAD_HEADER_BYTES = 16

export function encodePayload(bytes: number, publisherId: number, seq: number, sentAtNs: bigint): Buffer {
  // allocUnsafe takes a slice of Node's shared pool: no per-message zeroing of a fresh allocation.
  const payload = Buffer.allocUnsafe(bytes)
  payload.writeUInt32BE(publisherId, 0)
  payload.writeUInt32BE(seq, 4)
  payload.writeBigUInt64BE(sentAtNs, 8)
  payload.fill(0, PAYLOAD_HEADER_BYTES)
  return payload
}

export function payloadPublisherId(payload: Buffer): number {
  return payload.length < PAYLOAD_HEADER_BYTES ? -1 : payload.readUInt32BE(0)
}

export function payloadSeq(payload: Buffer): number {
  return payload.readUInt32BE(4)
}

export function payloadSentAtNs(payload: Buffer): bigint {
  return payload.readBigUInt64BE(8)
}

/** CLOCK_MONOTONIC in ms: the same clock in every process on the machine, so workers' times compare. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}
