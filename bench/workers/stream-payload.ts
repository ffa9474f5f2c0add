/**
 * Stream-replay payloads: sequence number (u32) then bytes cut from a fixed pseudo-random pool, with
 * a length of minBytes..maxBytes that is a function of the sequence number. The consumer rebuilds
 * what each message must be from its number alone, so a lost, reordered, duplicated or altered
 * record is seen without keeping what was sent. Random bytes do not compress: the stored-bytes
 * figure shows the segment format's overhead, not a compression ratio of friendly data.
 */
const POOL_BYTES = 65_536;
const SEQ_BYTES = 4;

export interface PayloadShape {
  readonly minBytes: number;
  readonly maxBytes: number;
}

/** xorshift32 from a fixed seed: the same pool in every process. */
function makePool(): Buffer {
  const pool = Buffer.allocUnsafe(POOL_BYTES);
  let x = 0x9e3779b9;
  for (let i = 0; i < POOL_BYTES; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pool.writeInt32LE(x | 0, i);
  }
  return pool;
}

const POOL = makePool();

/** A 32-bit integer mix (murmur3 finalizer) of seq, so sizes and pool offsets look random. */
function mix(seq: number, salt: number): number {
  let h = (seq ^ salt) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function payloadBytesOf(seq: number, shape: PayloadShape): number {
  return shape.minBytes + (mix(seq, 0x51ed27) % (shape.maxBytes - shape.minBytes + 1));
}

function poolOffsetOf(seq: number, shape: PayloadShape): number {
  return mix(seq, 0x2c1b3c6d) % (POOL_BYTES - shape.maxBytes);
}

export function checkShape(shape: PayloadShape): void {
  if (!(shape.minBytes >= SEQ_BYTES && shape.maxBytes >= shape.minBytes && shape.maxBytes < POOL_BYTES)) {
    throw new Error(`stream payload: sizes ${shape.minBytes}..${shape.maxBytes} must be within ${SEQ_BYTES}..${POOL_BYTES - 1}`);
  }
}

export function encodeStreamPayload(seq: number, shape: PayloadShape): Buffer {
  const bytes = payloadBytesOf(seq, shape);
  const payload = Buffer.allocUnsafe(bytes);
  payload.writeUInt32BE(seq, 0);
  const offset = poolOffsetOf(seq, shape);
  POOL.copy(payload, SEQ_BYTES, offset, offset + bytes - SEQ_BYTES);
  return payload;
}

/** The sequence number a payload claims; -1 when it is too short to hold one. */
export function streamPayloadSeq(payload: Buffer): number {
  return payload.length < SEQ_BYTES ? -1 : payload.readUInt32BE(0);
}

/** True when the payload is exactly what message `seq` was published with. */
export function isIntactPayload(payload: Buffer, seq: number, shape: PayloadShape): boolean {
  const bytes = payloadBytesOf(seq, shape);
  if (payload.length !== bytes) return false;
  const offset = poolOffsetOf(seq, shape);
  return payload.compare(POOL, offset, offset + bytes - SEQ_BYTES, SEQ_BYTES) === 0;
}

/** Sum of the payload sizes of messages 0..count-1. */
export function totalPayloadBytes(count: number, shape: PayloadShape): number {
  let total = 0;
  for (let seq = 0; seq < count; seq++) total += payloadBytesOf(seq, shape);
  return total;
}
