/**
 * Stream-replay payloads: sequence number (u32) then pseudo-random bytes (xorshift32 seeded from the
 * sequence number), with a length of minBytes..maxBytes that is a function of the sequence number
 * too. The consumer rebuilds what each message must be from its number alone, so a lost,
 * reordered, duplicated or altered record is seen without keeping what was sent. No two messages
 * share content, so nothing compresses: the stored-bytes figure shows the segment format's
 * overhead, not a compression ratio of friendly data.
 */
const SEQ_BYTES = 4
const PAYLOAD_BYTES_MAX = 65_536

export interface PayloadShape {
  readonly minBytes: number
  readonly maxBytes: number
}

/** A 32-bit integer mix (murmur3 finalizer) of seq, so sizes and seeds look random. */
function mix(seq: number, salt: number): number {
  let h = (seq ^ salt) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

export function payloadBytesOf(seq: number, shape: PayloadShape): number {
  return shape.minBytes + (mix(seq, 0x51ed27) % (shape.maxBytes - shape.minBytes + 1))
}

/** Fills payload[SEQ_BYTES..] with the xorshift32 stream of message seq. */
function fillBody(payload: Buffer, seq: number): void {
  let x = mix(seq, 0x2c1b3c6d) | 1
  let i = SEQ_BYTES
  for (; i + 4 <= payload.length; i += 4) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    payload.writeInt32LE(x | 0, i)
  }
  for (; i < payload.length; i++) payload[i] = (x >>>= 8) & 0xff
}

export function checkShape(shape: PayloadShape): void {
  if (!(shape.minBytes >= SEQ_BYTES && shape.maxBytes >= shape.minBytes && shape.maxBytes <= PAYLOAD_BYTES_MAX)) {
    throw new Error(`stream payload: sizes ${shape.minBytes}..${shape.maxBytes} must be within ${SEQ_BYTES}..${PAYLOAD_BYTES_MAX}`)
  }
}

export function encodeStreamPayload(seq: number, shape: PayloadShape): Buffer {
  const payload = Buffer.allocUnsafe(payloadBytesOf(seq, shape))
  payload.writeUInt32BE(seq, 0)
  fillBody(payload, seq)
  return payload
}

/** The sequence number a payload claims; -1 when it is too short to hold one. */
export function streamPayloadSeq(payload: Buffer): number {
  return payload.length < SEQ_BYTES ? -1 : payload.readUInt32BE(0)
}

const scratch = Buffer.alloc(PAYLOAD_BYTES_MAX)

/** True when the payload is exactly what message `seq` was published with. */
export function isIntactPayload(payload: Buffer, seq: number, shape: PayloadShape): boolean {
  const bytes = payloadBytesOf(seq, shape)
  if (payload.length !== bytes || streamPayloadSeq(payload) !== seq) return false
  const expected = scratch.subarray(0, bytes)
  expected.writeUInt32BE(seq, 0)
  fillBody(expected, seq)
  return payload.equals(expected)
}
