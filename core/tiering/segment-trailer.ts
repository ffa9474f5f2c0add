// The last member of a segment: a gzip member written stored (level 0) around one fixed-width JSON
// line, so it is always TRAILER_BYTES long and a reader finds the index with one ranged GET of the
// object's last TRAILER_BYTES. Numbers are fixed-width hex strings because JSON numbers cannot be
// zero-padded.
import { createHash } from 'node:crypto'
import { gunzipSync, gzipSync } from 'node:zlib'
import { SegmentFormatError, causeText } from './segment-error.ts'

export const TRAILER_VERSION = 1

export interface SegmentTrailer {
  /** Byte position of the index member. */
  readonly indexOffset: number
  readonly indexBytes: number
  /** SHA-256 (hex) of every byte of the object before the trailer. */
  readonly sha256: string
}

const TRAILER_LINE = /^\{"trailer":1,"indexOffset":"([0-9a-f]{16})","indexBytes":"([0-9a-f]{16})","sha256":"([0-9a-f]{64})"\}\n$/

function trailerLine(t: SegmentTrailer): string {
  return `{"trailer":${TRAILER_VERSION},"indexOffset":"${hex16(t.indexOffset)}","indexBytes":"${hex16(t.indexBytes)}","sha256":"${t.sha256}"}\n`
}

function gzipStored(line: string): Buffer {
  return gzipSync(Buffer.from(line, 'latin1'), { level: 0 })
}

/** Size of the trailer member: a stored gzip member of a fixed-width line is always this long. */
export const TRAILER_BYTES = gzipStored(trailerLine({ indexOffset: 0, indexBytes: 0, sha256: '0'.repeat(64) })).length

export function encodeTrailer(t: SegmentTrailer): Buffer {
  if (!/^[0-9a-f]{64}$/.test(t.sha256)) throw new Error(`segment trailer: sha256 must be 64 lowercase hex digits, got "${t.sha256}"`)
  const bytes = gzipStored(trailerLine(t))
  // A programmer error (zlib framing changed), not an operating one: every reader depends on it.
  if (bytes.length !== TRAILER_BYTES) throw new Error(`segment trailer: ${bytes.length} bytes, expected ${TRAILER_BYTES}`)
  return bytes
}

/** Parses the last TRAILER_BYTES of a segment; throws SegmentFormatError on anything else. */
export function decodeTrailer(bytes: Buffer): SegmentTrailer {
  if (bytes.length !== TRAILER_BYTES) throw new SegmentFormatError(`segment trailer: ${bytes.length} bytes, expected ${TRAILER_BYTES}`)
  let line: string
  try {
    line = gunzipSync(bytes).toString('latin1')
  } catch (err) {
    throw new SegmentFormatError(`segment trailer: not a gzip member: ${causeText(err)}`)
  }
  const m = TRAILER_LINE.exec(line)
  if (m === null) throw new SegmentFormatError(`segment trailer: unexpected content ${JSON.stringify(line.slice(0, 40))}… (${versionHint(line)})`)
  return { indexOffset: fromHex16(m[1] as string, 'indexOffset'), indexBytes: fromHex16(m[2] as string, 'indexBytes'), sha256: m[3] as string }
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function versionHint(line: string): string {
  const m = /^\{"trailer":(\d+),/.exec(line)
  if (m !== null && m[1] !== String(TRAILER_VERSION)) return `trailer version ${m[1]}; this reader knows ${TRAILER_VERSION}`
  return 'not a wharf-segment trailer'
}

function hex16(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`segment trailer: ${n} is not a byte position`)
  return n.toString(16).padStart(16, '0')
}

function fromHex16(hex: string, field: string): number {
  const n = Number.parseInt(hex, 16)
  if (!Number.isSafeInteger(n)) throw new SegmentFormatError(`segment trailer: ${field} 0x${hex} is beyond 2^53`)
  return n
}
