// The header line and the index line of a segment, checked field by field when read back: a reader
// trusts nothing in an object it did not write in this process. Layout: SEGMENT-FORMAT.md.
import type { SegmentBlock, SegmentHeader, SegmentIndex } from './segment-index.ts'
import { SegmentFormatError } from './segment-error.ts'

export const SEGMENT_FORMAT = 'wharf-segment'
export const SEGMENT_VERSION = 1

/** The header as written (member 0 and inside the index line), fields in a fixed order. */
export function headerJson(h: SegmentHeader): SegmentHeader {
  return {
    format: h.format,
    version: h.version,
    vhost: h.vhost,
    stream: h.stream,
    firstOffset: h.firstOffset,
    lastOffset: h.lastOffset,
    records: h.records,
    createdAtMs: h.createdAtMs
  }
}

function blockJson(b: SegmentBlock): SegmentBlock {
  return {
    firstOffset: b.firstOffset,
    lastOffset: b.lastOffset,
    records: b.records,
    firstTimestampMs: b.firstTimestampMs,
    lastTimestampMs: b.lastTimestampMs,
    byteOffset: b.byteOffset,
    byteLength: b.byteLength
  }
}

/** The index line's object. sizeBytes is not in it (it depends on the line's own length); the trailer implies it. */
export function indexJson(header: SegmentHeader, blocks: readonly SegmentBlock[]): { index: { header: SegmentHeader; blocks: SegmentBlock[] } } {
  return { index: { header: headerJson(header), blocks: blocks.map(blockJson) } }
}

export function parseHeader(value: unknown): SegmentHeader {
  const h = objectOf(value, 'segment header')
  if (h.format !== SEGMENT_FORMAT) throw new SegmentFormatError(`segment header: format ${JSON.stringify(h.format)} is not "${SEGMENT_FORMAT}"`)
  if (h.version !== SEGMENT_VERSION)
    throw new SegmentFormatError(`segment header: version ${JSON.stringify(h.version)} not supported (this reader knows ${SEGMENT_VERSION})`)
  if (typeof h.vhost !== 'string') throw bad('segment header', 'vhost', h.vhost)
  if (typeof h.stream !== 'string') throw bad('segment header', 'stream', h.stream)
  const firstOffset = count(h, 'firstOffset', 'segment header')
  const lastOffset = count(h, 'lastOffset', 'segment header')
  const records = count(h, 'records', 'segment header')
  if (records < 1 || lastOffset - firstOffset + 1 !== records) {
    throw new SegmentFormatError(`segment header: offsets ${firstOffset}-${lastOffset} do not hold ${records} records`)
  }
  if (typeof h.createdAtMs !== 'number' || !Number.isFinite(h.createdAtMs)) throw bad('segment header', 'createdAtMs', h.createdAtMs)
  return { format: SEGMENT_FORMAT, version: SEGMENT_VERSION, vhost: h.vhost, stream: h.stream, firstOffset, lastOffset, records, createdAtMs: h.createdAtMs }
}

/**
 * The index line read back, checked against the layout: blocks cover the header's offsets without
 * gaps, and their bytes follow the header member back to back up to the index member at indexOffset.
 */
export function parseIndex(value: unknown, indexOffset: number, sizeBytes: number): SegmentIndex {
  const line = objectOf(value, 'segment index line')
  const index = objectOf(line.index, 'segment index')
  const header = parseHeader(index.header)
  if (!Array.isArray(index.blocks) || index.blocks.length === 0) throw bad('segment index', 'blocks', index.blocks)
  const blocks = index.blocks.map((b, i) => parseBlock(b, i))
  let nextOffset = header.firstOffset
  let nextByte = (blocks[0] as SegmentBlock).byteOffset
  if (nextByte < 1) throw new SegmentFormatError('segment index: block 0 starts at byte 0, where the header member is')
  for (const b of blocks) {
    const name = `segment index: block ${b.firstOffset}-${b.lastOffset}`
    if (b.firstOffset !== nextOffset) throw new SegmentFormatError(`${name}: expected to start at offset ${nextOffset}`)
    if (b.byteOffset !== nextByte) throw new SegmentFormatError(`${name}: expected at byte ${nextByte}, says ${b.byteOffset}`)
    nextOffset = b.lastOffset + 1
    nextByte = b.byteOffset + b.byteLength
  }
  if (nextOffset !== header.lastOffset + 1)
    throw new SegmentFormatError(`segment index: blocks end at offset ${nextOffset - 1}, header says ${header.lastOffset}`)
  if (nextByte !== indexOffset) throw new SegmentFormatError(`segment index: blocks end at byte ${nextByte}, index member starts at ${indexOffset}`)
  return { header, blocks, sizeBytes }
}

function parseBlock(value: unknown, i: number): SegmentBlock {
  const where = `segment index: blocks[${i}]`
  const b = objectOf(value, where)
  const block: SegmentBlock = {
    firstOffset: count(b, 'firstOffset', where),
    lastOffset: count(b, 'lastOffset', where),
    records: count(b, 'records', where),
    firstTimestampMs: finite(b, 'firstTimestampMs', where),
    lastTimestampMs: finite(b, 'lastTimestampMs', where),
    byteOffset: count(b, 'byteOffset', where),
    byteLength: count(b, 'byteLength', where)
  }
  if (block.records < 1 || block.lastOffset - block.firstOffset + 1 !== block.records) {
    throw new SegmentFormatError(`${where}: offsets ${block.firstOffset}-${block.lastOffset} do not hold ${block.records} records`)
  }
  if (block.byteLength < 1) throw bad(where, 'byteLength', block.byteLength)
  return block
}

function objectOf(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new SegmentFormatError(`${where}: not a JSON object`)
  return value as Record<string, unknown>
}

function count(o: Record<string, unknown>, field: string, where: string): number {
  const v = o[field]
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw bad(where, field, v)
  return v as number
}

function finite(o: Record<string, unknown>, field: string, where: string): number {
  const v = o[field]
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(where, field, v)
  return v
}

function bad(where: string, field: string, value: unknown): SegmentFormatError {
  return new SegmentFormatError(`${where}: bad ${field}: ${JSON.stringify(value) ?? String(value)}`)
}
