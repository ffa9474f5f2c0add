// Property lists that publishers repeat, kept once for every message that carries them. A queued
// message is held in memory until consumed, and its own copy of the property bytes and of their
// decoded object was about a third of its heap (bench bridge-uplink: 790 bytes a 64-byte message).
// Most publishers send the same few lists (content type, delivery mode, app id), so one shared,
// frozen copy of each serves them all, decoded once. Lists with a property that is usually unique per
// message (correlation id, message id, timestamp, expiration) are not kept: they would only churn the
// table. Neither are headers, unless their table is empty (amqplib always sends one): a table holds
// buffers and arrays that cannot be frozen.
import type { MessageProperties } from '../../core/model/message.ts'
import { BASIC_CLASS_ID, decodeProperties } from './codec/amqp-defs.ts'

// Property flag bits (AMQP 0-9-1 §4.2.6.1, basic class), first property in the highest bit.
const CONTENT_TYPE = 0x8000
const CONTENT_ENCODING = 0x4000
const HEADERS = 0x2000
const CORRELATION_ID = 0x400
const EXPIRATION = 0x100
const MESSAGE_ID = 0x80
const TIMESTAMP = 0x40
const CLUSTER_ID = 0x4
const NOT_KEPT_FLAGS = CORRELATION_ID | EXPIRATION | MESSAGE_ID | TIMESTAMP | CLUSTER_ID

/** Distinct lists kept; past this the table starts over (a broker sees few). */
const ENTRIES_MAX = 256
/** Longer lists are not kept (long strings are rarely repeated byte for byte). */
const LIST_BYTES_MAX = 256

export interface InternedProperties {
  /** Property flags + list, a copy of their own (the message's encodedProperties). */
  readonly bytes: Buffer
  readonly properties: MessageProperties
}

export class PropertyInterner {
  private readonly entries = new Map<string, InternedProperties>()

  /**
   * The shared copy of these property bytes (flags + list, e.g. a view into a frame) and their
   * decoded, frozen form; null when such a list is not kept. Throws the codec's error on a bad list.
   */
  lookup(raw: Buffer): InternedProperties | null {
    if (raw.length < 2 || raw.length > LIST_BYTES_MAX) return null
    const flags = raw.readUInt16BE(0)
    if ((flags & NOT_KEPT_FLAGS) !== 0 || ((flags & HEADERS) !== 0 && !emptyHeaders(raw, flags))) return null
    const key = raw.toString('latin1')
    const kept = this.entries.get(key)
    if (kept !== undefined) return kept
    const decoded = decodeProperties(BASIC_CLASS_ID, raw) as MessageProperties
    if (decoded.headers !== undefined) Object.freeze(decoded.headers)
    const properties = Object.freeze(decoded)
    const bytes = Buffer.allocUnsafeSlow(raw.length)
    raw.copy(bytes)
    if (this.entries.size >= ENTRIES_MAX) this.entries.clear()
    const entry = { bytes, properties }
    this.entries.set(key, entry)
    return entry
  }
}

/** Whether the headers table (its flag set) is empty: it follows content type and encoding, two shortstrs. */
function emptyHeaders(raw: Buffer, flags: number): boolean {
  let at = 2
  if ((flags & CONTENT_TYPE) !== 0) at += 1 + (raw[at] ?? 0)
  if ((flags & CONTENT_ENCODING) !== 0) at += 1 + (raw[at] ?? 0)
  // Out of bounds: a malformed list, left to the decoder to refuse.
  return at + 4 <= raw.length && raw.readUInt32BE(at) === 0
}
