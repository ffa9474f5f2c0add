// Core messages as amqplib publishes them, and amqplib deliveries as core properties: the model's
// properties are AMQP's own, so only three things change on the way up: headers are the bridge's
// (loop-marks.ts), the expiration is what is left of it, and user-id is left out (RabbitMQ refuses
// a user-id that is not the connection's user).
import type { ConsumeMessage } from 'amqplib'
import { BASIC_CLASS_ID, encodeProperties, type BasicProperties, type FieldTable } from '../../amqp/codec/amqp-defs.ts'
import type { MessageProperties } from '../../../core/model/message.ts'
import type { Message } from '../../../core/model/message.ts'
import { safeTtlMs } from '../../mqtt/properties.ts'
import { upHeaders, withMarks } from '../loop-marks.ts'

/** The properties a message goes up with; `headers` are its loop-marked ones (loop-marks.ts upHeaders). */
export function uplinkProperties(message: Message, headers: Record<string, unknown>, nowMs: number): BasicProperties {
  const p = message.properties
  // Header values are the model's field-table values (decoded from AMQP or made by the adapters).
  const out: { -readonly [K in keyof BasicProperties]: BasicProperties[K] } = { headers: headers as FieldTable }
  if (p.contentType !== undefined) out.contentType = p.contentType
  if (p.contentEncoding !== undefined) out.contentEncoding = p.contentEncoding
  if (p.deliveryMode !== undefined) out.deliveryMode = p.deliveryMode
  if (p.priority !== undefined) out.priority = p.priority
  if (p.correlationId !== undefined) out.correlationId = p.correlationId
  if (p.replyTo !== undefined) out.replyTo = p.replyTo
  if (p.messageId !== undefined) out.messageId = p.messageId
  if (p.timestamp !== undefined) out.timestamp = p.timestamp
  if (p.type !== undefined) out.type = p.type
  if (p.appId !== undefined) out.appId = p.appId
  const ttl = safeTtlMs(message)
  if (ttl !== undefined) out.expiration = String(Math.max(0, message.publishedAtMs + ttl - nowMs))
  return out
}

/** Distinct property lists kept encoded; past this the cache starts over (a bridge sees few). */
const CACHED_PROPERTIES_MAX = 256
/** Larger stored properties are encoded each time rather than kept. */
const CACHED_PROPERTIES_BYTES_MAX = 1024

/**
 * The encoded property flags + list of what goes up, kept per distinct set of message properties:
 * a bridge's messages mostly repeat a few (same content type, delivery mode, headers), and
 * encoding the headers table is most of a publish's encoding. The key is the properties as stored
 * (Message.encodedProperties), or else the properties object when it is a shared frozen one (the
 * MQTT adapter's common cases). A message with an expiration is encoded each time: what is left
 * of its TTL changes.
 */
export class UplinkPropertyCache {
  private readonly byBytes = new Map<string, Buffer>()
  private readonly byObject = new WeakMap<MessageProperties, Buffer>()

  constructor(private readonly nodeId: string) {}

  encoded(message: Message, nowMs: number): Buffer {
    const stored = message.encodedProperties
    if (message.properties.expiration !== undefined || (stored !== null && stored.length > CACHED_PROPERTIES_BYTES_MAX)) return this.encode(message, nowMs)
    if (stored === null) {
      if (!Object.isFrozen(message.properties)) return this.encode(message, nowMs)
      let bytes = this.byObject.get(message.properties)
      if (bytes === undefined) {
        bytes = this.encode(message, nowMs)
        this.byObject.set(message.properties, bytes)
      }
      return bytes
    }
    const key = stored.toString('latin1')
    let bytes = this.byBytes.get(key)
    if (bytes === undefined) {
      if (this.byBytes.size >= CACHED_PROPERTIES_MAX) this.byBytes.clear()
      bytes = this.encode(message, nowMs)
      this.byBytes.set(key, bytes)
    }
    return bytes
  }

  private encode(message: Message, nowMs: number): Buffer {
    return encodeProperties(BASIC_CLASS_ID, uplinkProperties(message, upHeaders(message.properties.headers, this.nodeId), nowMs))
  }
}

type Writable = { -readonly [K in keyof MessageProperties]: MessageProperties[K] }

/** The properties of a delivery from the remote, as the core holds them (absent ones left out). */
export function coreProperties(d: ConsumeMessage['properties'], marks: Record<string, string>): MessageProperties {
  const out: Writable = { headers: withMarks({ ...(d.headers ?? {}) }, marks) }
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined)
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined)
  const set = <K extends keyof Writable>(key: K, value: Writable[K] | undefined): void => {
    if (value !== undefined) out[key] = value
  }
  set('contentType', text(d.contentType))
  set('contentEncoding', text(d.contentEncoding))
  set('deliveryMode', num(d.deliveryMode))
  set('priority', num(d.priority))
  set('correlationId', text(d.correlationId))
  set('replyTo', text(d.replyTo))
  set('expiration', text(d.expiration))
  set('messageId', text(d.messageId))
  set('timestamp', num(d.timestamp))
  set('type', text(d.type))
  set('userId', text(d.userId))
  set('appId', text(d.appId))
  return out
}
