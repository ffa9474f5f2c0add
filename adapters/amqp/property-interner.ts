// Property lists that publishers repeat, kept once for every message that carries them. A queued
// message is held in memory until consumed, and its own copy of the property bytes and of their
// decoded object was about a third of its heap (bench bridge-uplink: 790 bytes a 64-byte message).
// Most publishers send the same few lists (content type, delivery mode, app id), so one shared,
// frozen copy of each serves them all, decoded once. Lists with a property that is usually unique per
// message (correlation id, message id, timestamp, expiration) are not kept: they would only churn the
// table. Neither are headers, unless their table is empty (amqplib always sends one) or holds numbers
// and booleans alone (MQTT's x-mqtt-publish-qos and x-mqtt-retain, stored with every MQTT message and
// decoded again at each read-back from SQLite): strings are often unique per message, and nested
// tables, arrays, timestamps and byte arrays decode to objects that would have to be frozen deeply.
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
   * key: what the list is kept under, when the caller has one already (the hex a store read it as).
   */
  lookup(raw: Buffer, key?: string): InternedProperties | null {
    if (raw.length < 2 || raw.length > LIST_BYTES_MAX) return null
    const flags = raw.readUInt16BE(0)
    if ((flags & NOT_KEPT_FLAGS) !== 0 || ((flags & HEADERS) !== 0 && !scalarHeaders(raw, flags))) return null
    const k = key ?? raw.toString('latin1')
    const kept = this.entries.get(k)
    if (kept !== undefined) return kept
    const decoded = decodeProperties(BASIC_CLASS_ID, raw) as MessageProperties
    if (decoded.headers !== undefined) Object.freeze(decoded.headers)
    const properties = Object.freeze(decoded)
    const bytes = Buffer.allocUnsafeSlow(raw.length)
    raw.copy(bytes)
    if (this.entries.size >= ENTRIES_MAX) this.entries.clear()
    const entry = { bytes, properties }
    this.entries.set(k, entry)
    return entry
  }

  /** The list kept under this key (see lookup), if any: no bytes to make on a hit. */
  get(key: string): InternedProperties | undefined {
    return this.entries.get(key)
  }
}

/** Field-table value types that decode to a number or a boolean, with their sizes in bytes (AMQP 0-9-1 §4.2.5.5, RabbitMQ's errata). */
const SCALAR_BYTES: Readonly<Record<string, number>> = { t: 1, b: 1, B: 1, s: 2, u: 2, I: 4, i: 4, l: 8, f: 4, d: 8 }
/** Tables with more entries are not kept (such lists are rarely repeated byte for byte). */
const HEADER_ENTRIES_MAX = 8

/**
 * Whether the headers table (its flag set) is empty or holds only numbers and booleans: read off
 * the bytes, without decoding, as a publish whose table does not qualify decodes it afterwards.
 * The table follows content type and encoding, two shortstrs.
 */
function scalarHeaders(raw: Buffer, flags: number): boolean {
  let at = 2
  if ((flags & CONTENT_TYPE) !== 0) at += 1 + (raw[at] ?? 0)
  if ((flags & CONTENT_ENCODING) !== 0) at += 1 + (raw[at] ?? 0)
  // Out of bounds: a malformed list, left to the decoder to refuse.
  if (at + 4 > raw.length) return false
  const end = at + 4 + raw.readUInt32BE(at)
  if (end > raw.length) return false
  at += 4
  for (let entries = 0; at < end; entries++) {
    if (entries === HEADER_ENTRIES_MAX) return false
    at += 1 + (raw[at] ?? 0) // the field name, a shortstr
    const size = SCALAR_BYTES[String.fromCharCode(raw[at] ?? 0)]
    if (size === undefined) return false
    at += 1 + size
  }
  return at === end
}
