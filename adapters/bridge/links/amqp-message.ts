// Core messages as amqplib publishes them, and amqplib deliveries as core properties: the model's
// properties are AMQP's own, so only three things change on the way up: headers are the bridge's
// (loop-marks.ts), the expiration is what is left of it, and user-id is left out (RabbitMQ refuses
// a user-id that is not the connection's user).
import type { ConsumeMessage, Options } from 'amqplib'
import type { MessageProperties } from '../../../core/model/message.ts'
import type { Message } from '../../../core/model/message.ts'
import { safeTtlMs } from '../../mqtt/properties.ts'
import { withMarks } from '../loop-marks.ts'

export function publishOptions(message: Message, headers: Record<string, unknown>, nowMs: number): Options.Publish {
  const p = message.properties
  const out: Options.Publish = { headers }
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
