// One stream record as one JSON line of a segment block (core/tiering/SEGMENT-FORMAT.md): the body
// as text when it is valid UTF-8 (so `gzip -dc | jq` shows it), else as base64. Properties are
// MessageProperties as JSON; the values JSON has no type for are tagged one-key objects.
import type { StreamRecord } from '../streams/stream-record.ts'
import type { MessageProperties } from '../model/message.ts'
import { SegmentFormatError } from './segment-error.ts'

/** The JSON object of one record line. Exactly one of payload / payloadBase64 is present. */
export interface RecordJson {
  offset: number
  timestampMs: number
  exchange: string
  routingKey: string
  properties: Record<string, unknown>
  payload?: string
  payloadBase64?: string
}

// fatal: invalid UTF-8 throws instead of becoming U+FFFD; ignoreBOM: a leading BOM stays in the text
// (the default strips it, and the body would not round-trip).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function recordToJson(record: StreamRecord): RecordJson {
  const json: RecordJson = {
    offset: record.offset,
    timestampMs: record.timestampMs,
    exchange: record.exchange,
    routingKey: record.routingKey,
    properties: tagValue(record.properties) as Record<string, unknown>
  }
  const text = utf8Text(record.body)
  if (text === null) json.payloadBase64 = record.body.toString('base64')
  else json.payload = text
  return json
}

/** The record line (without its newline). */
export function encodeRecordLine(record: StreamRecord): string {
  return JSON.stringify(recordToJson(record))
}

/** Parses one record line; throws SegmentFormatError naming what is wrong. */
export function decodeRecordLine(line: string): StreamRecord {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (err) {
    throw new SegmentFormatError(`record line is not JSON: ${(err as Error).message}`)
  }
  if (!isPlainObject(value)) throw new SegmentFormatError('record line is not a JSON object')
  const { offset, timestampMs, exchange, routingKey, properties, payload, payloadBase64 } = value
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw badField('offset', offset)
  if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs)) throw badField('timestampMs', timestampMs)
  if (typeof exchange !== 'string') throw badField('exchange', exchange)
  if (typeof routingKey !== 'string') throw badField('routingKey', routingKey)
  if (!isPlainObject(properties)) throw badField('properties', properties)
  return {
    offset: offset as number,
    timestampMs,
    exchange,
    routingKey,
    properties: untagValue(properties) as MessageProperties,
    body: bodyOf(payload, payloadBase64, offset as number)
  }
}

function bodyOf(payload: unknown, payloadBase64: unknown, offset: number): Buffer {
  if (typeof payload === 'string' && payloadBase64 === undefined) return Buffer.from(payload, 'utf8')
  if (typeof payloadBase64 === 'string' && payload === undefined) {
    const body = Buffer.from(payloadBase64, 'base64')
    // Buffer.from skips characters that are not base64; only the canonical spelling is a body.
    if (body.toString('base64') !== payloadBase64) throw badField('payloadBase64', `${payloadBase64.slice(0, 40)}… (not canonical base64)`, offset)
    return body
  }
  throw new SegmentFormatError(`record ${offset}: needs exactly one of payload (string) and payloadBase64 (string)`)
}

function badField(field: string, value: unknown, offset?: number): SegmentFormatError {
  const where = offset === undefined ? 'record' : `record ${offset}`
  return new SegmentFormatError(`${where}: bad ${field}: ${JSON.stringify(value) ?? String(value)}`)
}

function utf8Text(body: Buffer): string | null {
  try {
    return strictUtf8.decode(body)
  } catch {
    return null
  }
}

// Values in properties (header tables may nest) that JSON cannot carry are tagged one-key objects:
// Buffer -> {"$base64": "..."}, bigint -> {"$bigint": "123"}, and a table that itself has exactly one
// key starting with "$" is wrapped as {"$object": {...}} so it cannot be mistaken for a tag.
const TAG_BASE64 = '$base64'
const TAG_BIGINT = '$bigint'
const TAG_OBJECT = '$object'

function tagValue(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { [TAG_BASE64]: Buffer.from(value).toString('base64') }
  if (typeof value === 'bigint') return { [TAG_BIGINT]: value.toString() }
  if (Array.isArray(value)) return value.map(tagValue)
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a header named "__proto__" stays a header.
    const out: Record<string, unknown> = Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([key, v]) => [key, tagValue(v)])
    )
    const keys = Object.keys(out)
    return keys.length === 1 && keys[0]?.startsWith('$') === true ? { [TAG_OBJECT]: out } : out
  }
  return value
}

function untagValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(untagValue)
  if (!isPlainObject(value)) return value
  const keys = Object.keys(value)
  if (keys.length === 1) {
    const tagged = value[keys[0] as string]
    if (keys[0] === TAG_BASE64 && typeof tagged === 'string') return Buffer.from(tagged, 'base64')
    if (keys[0] === TAG_BIGINT && typeof tagged === 'string' && /^-?\d+$/.test(tagged)) return BigInt(tagged)
    if (keys[0] === TAG_OBJECT && isPlainObject(tagged)) return untagEntries(tagged)
  }
  return untagEntries(value)
}

function untagEntries(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, untagValue(v)]))
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
