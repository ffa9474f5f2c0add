// Messages over the management API, RabbitMQ's shapes: a publish body ({routing_key, payload,
// payload_encoding, properties}) into a core Message, and a queue entry into what /get returns
// ({payload, payload_encoding, payload_bytes, properties, redelivered, exchange, routing_key}).
import { Message, type MessageProperties } from '../../core/model/message.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import { senderSelected } from '../../adapters/amqp/sender-selected.ts'
import { AmqpException } from '../../adapters/amqp/amqp-errors.ts'
import { badRequest } from './api-error.ts'
import { plainArguments, type Json } from './model-json.ts'

// RabbitMQ's JSON property names and the model's.
const propertyNames: ReadonlyArray<[string, keyof MessageProperties, 'string' | 'number']> = [
  ['content_type', 'contentType', 'string'],
  ['content_encoding', 'contentEncoding', 'string'],
  ['delivery_mode', 'deliveryMode', 'number'],
  ['priority', 'priority', 'number'],
  ['correlation_id', 'correlationId', 'string'],
  ['reply_to', 'replyTo', 'string'],
  ['expiration', 'expiration', 'string'],
  ['message_id', 'messageId', 'string'],
  ['timestamp', 'timestamp', 'number'],
  ['type', 'type', 'string'],
  ['user_id', 'userId', 'string'],
  ['app_id', 'appId', 'string'],
  ['cluster_id', 'clusterId', 'string']
]

export function publishedMessage(exchange: string, body: Record<string, unknown>, nowMs: number, user: string | null): Message {
  const routingKey = body.routing_key
  if (typeof routingKey !== 'string') throw badRequest('publish: routing_key must be a string')
  const payload = body.payload ?? ''
  if (typeof payload !== 'string') throw badRequest('publish: payload must be a string')
  const encoding = body.payload_encoding ?? 'string'
  if (encoding !== 'string' && encoding !== 'base64') throw badRequest(`publish: payload_encoding must be string or base64, got ${JSON.stringify(encoding)}`)
  const decoded = messageProperties(body.properties ?? {})
  // As RabbitMQ, whose HTTP publish goes through the same routing as a client's: CC and BCC headers
  // are routing keys besides routing_key, and BCC is taken out of the message.
  const selected = sendersRoutingKeys(decoded)
  const properties = selected?.properties ?? decoded
  // As RabbitMQ: a user_id property must name the authenticated user.
  if (properties.userId !== undefined && properties.userId !== user)
    throw badRequest(`publish: user_id property set to '${properties.userId}' but authenticated user was '${user ?? ''}'`)
  const bytes = Buffer.from(payload, encoding === 'base64' ? 'base64' : 'utf8')
  return new Message(exchange, routingKey, properties, bytes, nowMs, null, selected?.extraRoutingKeys ?? null)
}

/** The CC / BCC keys of a publish; a header of the wrong type is the client's error (400), as an AMQP publish's 406. */
function sendersRoutingKeys(properties: MessageProperties): ReturnType<typeof senderSelected> {
  try {
    return senderSelected(properties)
  } catch (err) {
    if (err instanceof AmqpException) throw badRequest(`publish: ${err.message}`)
    throw err
  }
}

function messageProperties(json: unknown): MessageProperties {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badRequest('publish: properties must be a JSON object')
  const p = json as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [jsonName, name, kind] of propertyNames) {
    let v = p[jsonName]
    if (v === undefined || v === null || v === '') continue
    // rabbitmqadmin and the console send numbers as text ("2").
    if (kind === 'number' && typeof v === 'string' && /^[0-9]+$/.test(v)) v = Number(v)
    if (typeof v !== kind) throw badRequest(`publish: property ${jsonName} must be a ${kind}, got ${JSON.stringify(v)}`)
    out[name] = v
  }
  if (p.headers !== undefined && p.headers !== null) {
    if (typeof p.headers !== 'object' || Array.isArray(p.headers)) throw badRequest('publish: properties.headers must be a JSON object')
    out.headers = p.headers
  }
  for (const key of Object.keys(p)) {
    if (key !== 'headers' && !propertyNames.some(([n]) => n === key)) throw badRequest(`publish: unknown property '${key}'`)
  }
  return out as MessageProperties
}

export function gotMessageJson(entry: QueueEntry, messageCount: number, encoding: 'auto' | 'base64', truncateBytes: number | undefined): Json {
  const m = entry.message
  const body = truncateBytes === undefined ? m.body : m.body.subarray(0, truncateBytes)
  const text = encoding === 'auto' ? utf8(body) : undefined
  return {
    payload_bytes: m.body.length,
    redelivered: entry.redelivered,
    exchange: m.exchange,
    routing_key: m.routingKey,
    message_count: messageCount,
    properties: propertiesJson(m.properties),
    payload: text ?? body.toString('base64'),
    payload_encoding: text === undefined ? 'base64' : 'string'
  }
}

function propertiesJson(p: MessageProperties): Json {
  const out: Json = {}
  for (const [jsonName, name] of propertyNames) if (p[name] !== undefined) out[jsonName] = p[name]
  if (p.headers !== undefined) out.headers = plainArguments(p.headers)
  return out
}

/** The text, when the bytes are valid UTF-8. */
function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
}
