// How many bytes of memory decoded records occupy, for the block cache's bound: bodies, strings
// (UTF-8 length) and property values, plus a fixed allowance per record for the objects around them.
// An estimate by design — exact heap sizes are not observable — but it grows with what is held.
import type { StreamRecord } from '../streams/stream-record.ts'

/** Allowance for the record object, its properties object and their slots. */
const recordOverheadBytes = 96

export function decodedRecordsBytes(records: readonly StreamRecord[]): number {
  let total = 0
  for (const r of records) {
    total += recordOverheadBytes + r.body.byteLength + Buffer.byteLength(r.exchange) + Buffer.byteLength(r.routingKey) + valueBytes(r.properties)
  }
  return total
}

function valueBytes(value: unknown): number {
  if (value === null || value === undefined) return 0
  if (typeof value === 'string') return Buffer.byteLength(value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return 8
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return value.byteLength
  if (Array.isArray(value)) return value.reduce((n: number, v: unknown) => n + 8 + valueBytes(v), 0)
  if (typeof value === 'object') {
    let n = 0
    for (const [k, v] of Object.entries(value)) n += Buffer.byteLength(k) + 8 + valueBytes(v)
    return n
  }
  return 8
}
