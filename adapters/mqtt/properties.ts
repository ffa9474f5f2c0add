// MQTT publishes as core messages and core messages as MQTT publishes: the one conversion, as
// RabbitMQ 3.13's MQTT plugin maps them (README "MQTT and AMQP together"):
//   QoS 0 <-> delivery-mode 1, QoS 1/2 <-> delivery-mode 2 (the publish QoS in x-mqtt-publish-qos)
//   retain <-> header x-mqtt-retain          content type <-> content-type
//   correlation data <-> correlation-id (UTF-8 up to 255 bytes; else header x-correlation-id, bytes)
//   response topic <-> reply-to ('/'<->'.')  message expiry (s) <-> expiration (ms)
//   user properties <-> headers              payload format indicator <-> header x-mqtt-payload-format-indicator
// User properties may repeat a name and their order matters [MQTT-3.3.2-18]; headers cannot
// repeat one (nor keep numeric names in place, nor hold our own x-mqtt-* names), so then the
// ordered list also travels in x-mqtt-user-properties. Towards MQTT, only what has an MQTT string
// form goes (header-strings.ts).
// AMQP's content-type, reply-to and header names are shortstrs (at most 255 bytes); MQTT's strings go
// to 65,535. What does not fit travels in a longstr header instead (a content type in
// x-mqtt-content-type, a response topic in x-reply-to-topic as RabbitMQ 3.13 carries it, a long
// User Property name in the x-mqtt-user-properties list only), so that no AMQP encoding fails and MQTT
// subscribers still get it unaltered [MQTT-3.3.2-15] [MQTT-3.3.2-17] [MQTT-3.3.2-20].
import { Message, messageTtlMs, type Arguments, type MessageProperties } from '../../core/model/message.ts'
import { routingKeyToTopic, topicToRoutingKey } from './topic-grammar.ts'
import { mqttString, responseTopicOf, userPropertyValue } from './header-strings.ts'

export const QOS_HEADER = 'x-mqtt-publish-qos'
export const RETAIN_HEADER = 'x-mqtt-retain'
export const FORMAT_HEADER = 'x-mqtt-payload-format-indicator'
export const USER_PROPERTIES_HEADER = 'x-mqtt-user-properties'
export const CORRELATION_HEADER = 'x-correlation-id'
export const CONTENT_TYPE_HEADER = 'x-mqtt-content-type'
export const REPLY_TO_TOPIC_HEADER = 'x-reply-to-topic'
const OWN_HEADERS: ReadonlySet<string> = new Set([
  QOS_HEADER,
  RETAIN_HEADER,
  FORMAT_HEADER,
  USER_PROPERTIES_HEADER,
  CORRELATION_HEADER,
  CONTENT_TYPE_HEADER,
  REPLY_TO_TOPIC_HEADER
])
const SHORTSTR_MAX_BYTES = 255
const MAX_EXPIRY_INTERVAL_S = 0xffffffff

/** Whether s fits an AMQP shortstr (content-type, reply-to, a header name). */
function fitsShortstr(s: string): boolean {
  return s.length <= SHORTSTR_MAX_BYTES && Buffer.byteLength(s) <= SHORTSTR_MAX_BYTES
}

export type UserProperties = Array<[string, string]>

// Names a headers object cannot hold in order: JS puts array-index keys ('2', '10') before the rest.
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/

/** The MQTT 5 properties of a PUBLISH that travel with the message. */
export interface PublishProperties {
  payloadFormatIndicator?: 0 | 1
  messageExpiryInterval?: number
  contentType?: string
  responseTopic?: string
  correlationData?: Buffer
  userProperties?: UserProperties
}

/** A PUBLISH as the engine took it in (after topic alias resolution). */
export interface InboundPublish {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
  readonly properties: PublishProperties | undefined
}

// One frozen properties object per (QoS, retain): publishes without MQTT 5 properties allocate none.
const PLAIN: ReadonlyArray<Readonly<MessageProperties>> = [0, 1, 2].flatMap(qos =>
  [false, true].map(retain =>
    Object.freeze({
      deliveryMode: qos > 0 ? 2 : 1,
      headers: Object.freeze(retain ? { [QOS_HEADER]: qos, [RETAIN_HEADER]: true } : { [QOS_HEADER]: qos })
    })
  )
)

export function mqttToCoreMessage(p: InboundPublish, exchange: string, nowMs: number): Message {
  const body = p.payload
  const routingKey = topicToRoutingKey(p.topic)
  if (p.properties === undefined || isEmpty(p.properties)) {
    return new Message(exchange, routingKey, PLAIN[p.qos * 2 + (p.retain ? 1 : 0)] as MessageProperties, body, nowMs, null)
  }
  return new Message(exchange, routingKey, coreProperties(p), body, nowMs, null)
}

function isEmpty(props: PublishProperties): boolean {
  for (const k in props) if ((props as Record<string, unknown>)[k] !== undefined) return false
  return true
}

function coreProperties(p: InboundPublish): MessageProperties {
  const props = p.properties as PublishProperties
  const headers: Record<string, unknown> = { [QOS_HEADER]: p.qos }
  if (p.retain) headers[RETAIN_HEADER] = true
  if (props.payloadFormatIndicator !== undefined) headers[FORMAT_HEADER] = props.payloadFormatIndicator
  const user = props.userProperties
  if (user !== undefined && user.length > 0) {
    let unordered = false
    for (const [k, v] of user) {
      const header = !OWN_HEADERS.has(k) && fitsShortstr(k)
      if (headers[k] !== undefined || !header || ARRAY_INDEX.test(k)) unordered = true
      if (header) headers[k] = v
    }
    if (unordered) headers[USER_PROPERTIES_HEADER] = user.map(([k, v]) => [k, v])
  }
  const out: { -readonly [K in keyof MessageProperties]: MessageProperties[K] } = { deliveryMode: p.qos > 0 ? 2 : 1, headers }
  const contentType = props.contentType
  if (contentType !== undefined) {
    if (fitsShortstr(contentType)) out.contentType = contentType
    else headers[CONTENT_TYPE_HEADER] = contentType
  }
  if (props.responseTopic !== undefined) {
    const replyTo = topicToRoutingKey(props.responseTopic)
    if (fitsShortstr(replyTo)) out.replyTo = replyTo
    else headers[REPLY_TO_TOPIC_HEADER] = replyTo
  }
  if (props.messageExpiryInterval !== undefined) out.expiration = String(props.messageExpiryInterval * 1000)
  const corr = props.correlationData
  if (corr !== undefined) {
    const text = corr.length <= 255 ? corr.toString('utf8') : undefined
    if (text !== undefined && Buffer.byteLength(text) === corr.length && !text.includes('\uFFFD')) out.correlationId = text
    else headers[CORRELATION_HEADER] = corr
  }
  return out
}

/** QoS of a core message for MQTT: transient -> 0; persistent -> its MQTT publish QoS, else 1. */
export function mqttQosOf(message: Message): 0 | 1 | 2 {
  if (!message.persistent) return 0
  const q = message.properties.headers?.[QOS_HEADER]
  return q === 2 ? 2 : 1
}

export function isRetained(message: Message): boolean {
  return message.properties.headers?.[RETAIN_HEADER] === true
}

export function topicOf(message: Message): string {
  return routingKeyToTopic(message.routingKey)
}

/**
 * The MQTT 5 properties a subscriber gets for a core message; expiry is the remaining interval
 * [MQTT-3.3.2-6]. undefined when there are none (the common case allocates nothing).
 */
export function outboundProperties(message: Message, nowMs: number): PublishProperties | undefined {
  const p = message.properties
  if (p === PLAIN[0] || p === PLAIN[1] || p === PLAIN[2] || p === PLAIN[3] || p === PLAIN[4] || p === PLAIN[5]) return undefined
  const out: PublishProperties = {}
  let any = false
  // Only what is a well-formed MQTT string (header-strings.ts): a client closes on anything else.
  const headers = p.headers
  const longContentType = headers?.[CONTENT_TYPE_HEADER]
  const contentTypeText = p.contentType ?? (typeof longContentType === 'string' ? longContentType : undefined)
  const contentType = contentTypeText === undefined ? undefined : mqttString(contentTypeText)
  if (contentType !== undefined) {
    out.contentType = contentType
    any = true
  }
  const replyToTopic = headers?.[REPLY_TO_TOPIC_HEADER]
  const replyTo = p.replyTo ?? (typeof replyToTopic === 'string' ? replyToTopic : undefined)
  const responseTopic = replyTo === undefined ? undefined : responseTopicOf(routingKeyToTopic(replyTo))
  if (responseTopic !== undefined) {
    out.responseTopic = responseTopic
    any = true
  }
  if (p.correlationId !== undefined) {
    out.correlationData = Buffer.from(p.correlationId)
    any = true
  } else {
    // Bytes as Wharf writes it; a string as RabbitMQ 3.13 writes it (longstr) and as its AMQP publishers set it.
    const corr = headers?.[CORRELATION_HEADER]
    if (Buffer.isBuffer(corr) || typeof corr === 'string') {
      out.correlationData = Buffer.isBuffer(corr) ? corr : Buffer.from(corr)
      any = true
    }
  }
  const expiry = remainingExpirySeconds(message, nowMs)
  if (expiry !== undefined) {
    out.messageExpiryInterval = expiry
    any = true
  }
  if (headers !== undefined) {
    const format = headers[FORMAT_HEADER]
    if (format === 1 || format === 0) {
      out.payloadFormatIndicator = format
      any = true
    }
    const user = userPropertiesOf(headers)
    if (user !== undefined) {
      out.userProperties = user
      any = true
    }
  }
  return any ? out : undefined
}

/**
 * The Message Expiry Interval a PUBLISH sent now carries: the received value minus the time the
 * message has waited in the server [MQTT-3.3.2-6], 0 once it has passed (a delivery started before
 * then is still completed [MQTT-3.3.2-5]); undefined for a message that does not expire.
 */
export function remainingExpirySeconds(message: Message, nowMs: number): number | undefined {
  const ttl = safeTtlMs(message)
  if (ttl === undefined) return undefined
  // A Four Byte Integer: an AMQP expiration may be longer (2^32 s and more), which no PUBLISH can say.
  return Math.min(MAX_EXPIRY_INTERVAL_S, Math.max(0, Math.ceil((message.publishedAtMs + ttl - nowMs) / 1000)))
}

/**
 * Headers as MQTT 5 user properties, without the x-mqtt-* ones this mapping owns, in order; a header
 * whose name or value has no MQTT string form is left out (header-strings.ts).
 */
function userPropertiesOf(headers: Arguments): UserProperties | undefined {
  const ordered = headers[USER_PROPERTIES_HEADER]
  let out: UserProperties | undefined
  if (Array.isArray(ordered)) {
    for (const pair of ordered) {
      const [k, v] = Array.isArray(pair) ? pair : []
      const name = userPropertyValue(k)
      const value = userPropertyValue(v)
      if (name !== undefined && value !== undefined) (out ??= []).push([name, value])
    }
    return out
  }
  for (const k in headers) {
    if (OWN_HEADERS.has(k) || mqttString(k) === undefined) continue
    const value = userPropertyValue(headers[k])
    if (value !== undefined) (out ??= []).push([k, value])
  }
  return out
}

export function safeTtlMs(message: Message): number | undefined {
  try {
    return messageTtlMs(message.properties)
  } catch {
    return undefined
  }
}
