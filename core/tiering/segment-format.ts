// A sealed segment as one object: concatenated gzip members of JSON lines (header, blocks of
// records, index, fixed-size trailer), so `gzip -dc` reads it without Wharf and one ranged GET
// fetches one block. Layout, checksums and versioning: core/tiering/SEGMENT-FORMAT.md.
import { gunzipSync, gzipSync } from 'node:zlib'
import type { StreamRecord } from '../streams/stream-record.ts'
import type { SegmentBlock, SegmentHeader, SegmentIndex } from './segment-index.ts'
import { SegmentFormatError, causeText } from './segment-error.ts'
import { SEGMENT_FORMAT, SEGMENT_VERSION, headerJson, indexJson, parseHeader, parseIndex } from './segment-index-json.ts'
import { decodeRecordLine, encodeRecordLine } from './segment-record-json.ts'
import { TRAILER_BYTES, decodeTrailer, encodeTrailer, sha256Hex } from './segment-trailer.ts'

export { TRAILER_BYTES } from './segment-trailer.ts'
export { SegmentFormatError, isSegmentFormatError } from './segment-error.ts'

export const BLOCK_BYTES_TARGET_DEFAULT = 256 * 1024

export type SegmentHeaderInput = Omit<SegmentHeader, 'format' | 'version' | 'firstOffset' | 'lastOffset' | 'records'>

export interface EncodeSegmentOptions {
  /** A block is cut before the record that would take its JSON lines past this many bytes (uncompressed); it always holds at least one record. */
  blockBytesTarget?: number
}

export interface EncodedSegment {
  readonly bytes: Buffer
  readonly index: SegmentIndex
}

/** Encodes records (non-empty, contiguous offsets) as one segment object. */
export function encodeSegment(input: SegmentHeaderInput, records: readonly StreamRecord[], opts: EncodeSegmentOptions = {}): EncodedSegment {
  const blockBytesTarget = opts.blockBytesTarget ?? BLOCK_BYTES_TARGET_DEFAULT
  if (!Number.isSafeInteger(blockBytesTarget) || blockBytesTarget < 1)
    throw new Error(`encodeSegment: blockBytesTarget must be a positive integer, got ${blockBytesTarget}`)
  const header = headerOf(input, records)
  const members: Buffer[] = [gzipLines([JSON.stringify(headerJson(header))])]
  let byteOffset = (members[0] as Buffer).length
  const blocks: SegmentBlock[] = []
  for (const group of blockGroups(records, blockBytesTarget)) {
    const member = gzipLines(group.lines)
    const first = group.records[0] as StreamRecord
    const last = group.records[group.records.length - 1] as StreamRecord
    blocks.push({
      firstOffset: first.offset,
      lastOffset: last.offset,
      records: group.records.length,
      firstTimestampMs: first.timestampMs,
      lastTimestampMs: last.timestampMs,
      byteOffset,
      byteLength: member.length
    })
    members.push(member)
    byteOffset += member.length
  }
  const indexMember = gzipLines([JSON.stringify(indexJson(header, blocks))])
  members.push(indexMember)
  const body = Buffer.concat(members)
  const trailer = encodeTrailer({ indexOffset: byteOffset, indexBytes: indexMember.length, sha256: sha256Hex(body) })
  const bytes = Buffer.concat([body, trailer])
  return { bytes, index: { header, blocks, sizeBytes: bytes.length } }
}

/**
 * The records of one block. `bytes` is either exactly the block (what a ranged GET of
 * block.byteOffset/byteLength returned) or the whole segment. Checks the gzip CRC-32 and length,
 * the record count and the offsets against the index entry.
 */
export function decodeBlock(bytes: Buffer, block: SegmentBlock): StreamRecord[] {
  const name = `segment block ${block.firstOffset}-${block.lastOffset}`
  let member: Buffer
  if (bytes.length === block.byteLength) member = bytes
  else if (bytes.length >= block.byteOffset + block.byteLength) member = bytes.subarray(block.byteOffset, block.byteOffset + block.byteLength)
  else throw new SegmentFormatError(`${name}: got ${bytes.length} bytes, the block is ${block.byteLength} at byte ${block.byteOffset}`)
  let lines: string[]
  try {
    lines = gunzipLines(member)
  } catch (err) {
    throw new SegmentFormatError(`${name}: ${causeText(err)}`, { cause: err })
  }
  if (lines.length !== block.records) throw new SegmentFormatError(`${name}: holds ${lines.length} records, index says ${block.records}`)
  return lines.map((line, i) => {
    let record: StreamRecord
    try {
      record = decodeRecordLine(line)
    } catch (err) {
      throw new SegmentFormatError(`${name}: line ${i + 1}: ${causeText(err)}`, { cause: err })
    }
    if (record.offset !== block.firstOffset + i)
      throw new SegmentFormatError(`${name}: line ${i + 1} has offset ${record.offset}, expected ${block.firstOffset + i}`)
    return record
  })
}

/** The index of a segment of sizeBytes through two ranged reads: the trailer, then the index member. */
export async function readSegmentIndex(getRange: (offset: number, length: number) => Promise<Buffer>, sizeBytes: number): Promise<SegmentIndex> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= TRAILER_BYTES)
    throw new SegmentFormatError(`segment: ${sizeBytes} bytes is too small for a segment (trailer alone is ${TRAILER_BYTES})`)
  const trailerBytes = await getRange(sizeBytes - TRAILER_BYTES, TRAILER_BYTES)
  const trailer = decodeTrailer(trailerBytes)
  checkTrailerFits(trailer.indexOffset, trailer.indexBytes, sizeBytes)
  const indexBytes = await getRange(trailer.indexOffset, trailer.indexBytes)
  if (indexBytes.length !== trailer.indexBytes) throw new SegmentFormatError(`segment index: read ${indexBytes.length} bytes, expected ${trailer.indexBytes}`)
  return parseIndex(parseOneLine(indexBytes, 'segment index'), trailer.indexOffset, sizeBytes)
}

/** Decodes a whole segment, checking the SHA-256 of the object and every block. */
export function decodeSegment(bytes: Buffer): { index: SegmentIndex; records: StreamRecord[] } {
  if (bytes.length <= TRAILER_BYTES)
    throw new SegmentFormatError(`segment: ${bytes.length} bytes is too small for a segment (trailer alone is ${TRAILER_BYTES})`)
  const bodyEnd = bytes.length - TRAILER_BYTES
  const trailer = decodeTrailer(bytes.subarray(bodyEnd))
  const actual = sha256Hex(bytes.subarray(0, bodyEnd))
  if (actual !== trailer.sha256)
    throw new SegmentFormatError(`segment: sha256 mismatch, the object is corrupt (trailer says ${trailer.sha256}, bytes hash to ${actual})`)
  checkTrailerFits(trailer.indexOffset, trailer.indexBytes, bytes.length)
  const index = parseIndex(parseOneLine(bytes.subarray(trailer.indexOffset, bodyEnd), 'segment index'), trailer.indexOffset, bytes.length)
  const header = parseHeader(parseOneLine(bytes.subarray(0, (index.blocks[0] as SegmentBlock).byteOffset), 'segment header'))
  if (JSON.stringify(header) !== JSON.stringify(index.header)) throw new SegmentFormatError('segment: header member and index header differ')
  const records: StreamRecord[] = []
  for (const block of index.blocks) for (const record of decodeBlock(bytes, block)) records.push(record)
  return { index, records }
}

function headerOf(input: SegmentHeaderInput, records: readonly StreamRecord[]): SegmentHeader {
  if (typeof input.vhost !== 'string' || typeof input.stream !== 'string') throw new Error('encodeSegment: vhost and stream must be strings')
  if (!Number.isFinite(input.createdAtMs)) throw new Error(`encodeSegment: createdAtMs must be a finite number, got ${input.createdAtMs}`)
  const first = records[0]
  if (first === undefined) throw new Error(`encodeSegment ${input.vhost}/${input.stream}: no records (a segment holds at least one)`)
  if (!Number.isSafeInteger(first.offset) || first.offset < 0)
    throw new Error(`encodeSegment ${input.vhost}/${input.stream}: first offset ${first.offset} is not a non-negative integer`)
  records.forEach((r, i) => {
    if (r.offset !== first.offset + i)
      throw new Error(`encodeSegment ${input.vhost}/${input.stream}: offsets not contiguous: record ${i} has offset ${r.offset}, expected ${first.offset + i}`)
  })
  return {
    format: SEGMENT_FORMAT,
    version: SEGMENT_VERSION,
    vhost: input.vhost,
    stream: input.stream,
    firstOffset: first.offset,
    lastOffset: first.offset + records.length - 1,
    records: records.length,
    createdAtMs: input.createdAtMs
  }
}

interface BlockGroup {
  records: StreamRecord[]
  lines: string[]
}

function* blockGroups(records: readonly StreamRecord[], blockBytesTarget: number): Generator<BlockGroup> {
  let group: BlockGroup = { records: [], lines: [] }
  let groupBytes = 0
  for (const record of records) {
    const line = encodeRecordLine(record)
    const lineBytes = Buffer.byteLength(line) + 1
    if (group.records.length > 0 && groupBytes + lineBytes > blockBytesTarget) {
      yield group
      group = { records: [], lines: [] }
      groupBytes = 0
    }
    group.records.push(record)
    group.lines.push(line)
    groupBytes += lineBytes
  }
  if (group.records.length > 0) yield group
}

function checkTrailerFits(indexOffset: number, indexBytes: number, sizeBytes: number): void {
  if (indexBytes < 1 || indexOffset + indexBytes !== sizeBytes - TRAILER_BYTES) {
    throw new SegmentFormatError(
      `segment trailer: index at ${indexOffset}+${indexBytes} does not end where the trailer of a ${sizeBytes}-byte object starts (${sizeBytes - TRAILER_BYTES})`
    )
  }
}

function gzipLines(lines: readonly string[]): Buffer {
  return gzipSync(Buffer.from(lines.join('\n') + '\n', 'utf8'))
}

/** The JSON lines of one gzip member (CRC-32 and length checked by zlib). */
function gunzipLines(member: Buffer): string[] {
  const text = gunzipSync(member).toString('utf8')
  if (!text.endsWith('\n')) throw new Error('content does not end with a newline')
  return text.slice(0, -1).split('\n')
}

function parseOneLine(member: Buffer, what: string): unknown {
  try {
    const lines = gunzipLines(member)
    if (lines.length !== 1) throw new Error(`${lines.length} lines, expected 1`)
    return JSON.parse(lines[0] as string)
  } catch (err) {
    throw new SegmentFormatError(`${what}: ${causeText(err)}`, { cause: err })
  }
}
