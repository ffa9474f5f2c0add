// How aedes packets become SQLite rows and back. Publish packets keep aedes-packet's shape
// (cmd, brokerId, brokerCounter, topic, payload, qos, retain, dup, messageId and, when present,
// clientId, nl, properties, messageExpiry), so a row read back is what aedes stored.

/** A payload as aedes hands it over: bytes, or a string when published from code. */
export type Payload = Buffer | string

/** What the persistence receives: aedes packets, or plain objects in the contract suite. */
export interface InPacket {
  cmd?: string
  topic: string
  payload?: unknown
  qos?: number
  retain?: boolean
  dup?: boolean
  messageId?: number | undefined
  brokerId?: string | null | undefined
  brokerCounter?: number | undefined
  [field: string]: unknown
}

export interface PublishPacket {
  cmd: 'publish'
  brokerId: string | undefined
  brokerCounter: number
  topic: string
  payload: Payload
  qos: number
  retain: boolean
  dup: boolean
  messageId: number | undefined
  [field: string]: unknown
}

export interface PubrelPacket {
  cmd: 'pubrel'
  messageId: number
}

/** Columns shared by messages and mqtt_incoming rows. */
export interface PublishRow {
  topic: string
  payload: Payload
  qos: number
  retain: number
  properties: string | null
  origin_id: string | null
  origin_seq: number
}

// Fields aedes-packet copies only when present; with dup, they go to the properties JSON column.
const OPTIONAL_FIELDS = ['clientId', 'nl', 'properties', 'messageExpiry'] as const
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

export function toPayload (payload: unknown): Payload {
  if (typeof payload === 'string' || Buffer.isBuffer(payload)) return payload
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  if (payload === undefined || payload === null) return Buffer.alloc(0)
  throw new TypeError(`mqtt persistence: unsupported payload type ${typeof payload}`)
}

export function payloadBytes (payload: Payload): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
}

/** The optional fields of a publish as JSON, or null (the common case: no JSON on the hot path). */
/** withTopic: the topic rides along, for a row whose topic column holds core's routing key. */
export function encodeOptionalFields (packet: InPacket, withTopic = false): string | null {
  let extra: Record<string, unknown> | null = withTopic ? { topic: packet.topic } : null
  for (const key of OPTIONAL_FIELDS) {
    if (hasOwn(packet, key)) (extra ??= {})[key] = packet[key]
  }
  if (packet.dup === true) (extra ??= {}).dup = true
  return extra === null ? null : encodeFields(extra)
}

/** A copy of a publish in aedes-packet's shape (what `new Packet(packet)` keeps). */
export function publishFromPacket (p: InPacket): PublishPacket {
  const packet: PublishPacket = {
    cmd: 'publish',
    brokerId: p.brokerId ?? undefined,
    brokerCounter: p.brokerCounter ?? 0,
    topic: p.topic,
    payload: toPayload(p.payload),
    qos: p.qos ?? 0,
    retain: p.retain ?? false,
    dup: p.dup ?? false,
    messageId: p.messageId
  }
  for (const key of OPTIONAL_FIELDS) {
    if (hasOwn(p, key)) packet[key] = p[key]
  }
  return packet
}

export function publishFromRow (row: PublishRow, messageId: number | undefined): PublishPacket {
  const packet: PublishPacket = {
    cmd: 'publish',
    brokerId: row.origin_id ?? undefined,
    brokerCounter: row.origin_seq,
    topic: row.topic,
    payload: row.payload,
    qos: row.qos,
    retain: row.retain === 1,
    dup: false,
    messageId
  }
  if (row.properties !== null) Object.assign(packet, decodeFields(row.properties))
  return packet
}

/** JSON of a packet's fields; Buffers (MQTT 5 correlation data, user properties) survive the trip. */
export function encodeFields (fields: Record<string, unknown>): string {
  return JSON.stringify(fields)
}

export function decodeFields (json: string): Record<string, unknown> {
  return JSON.parse(json, reviveBuffer) as Record<string, unknown>
}

// Buffer.prototype.toJSON writes { type: 'Buffer', data: [...] }.
function reviveBuffer (_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object') {
    const v = value as { type?: unknown, data?: unknown }
    if (v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data as number[])
  }
  return value
}

/** All own fields of a packet except those stored in columns of their own. */
export function otherFields (packet: object, omit: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(packet)) {
    if (!omit.includes(k)) out[k] = v
  }
  return out
}
