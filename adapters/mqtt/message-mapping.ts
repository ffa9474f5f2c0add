// MQTT publishes as core messages and core messages as MQTT publishes, as RabbitMQ's MQTT plugin
// converts them (DESIGN.md §2): QoS 0 <-> delivery-mode 1, QoS 1/2 <-> delivery-mode 2, the
// publish QoS in header x-mqtt-publish-qos, retain in header x-mqtt-retain.
// MQTT 3.1.1 has no properties: content type, correlation id, reply-to, expiration and headers of
// an AMQP message cannot reach a 3.1.1 subscriber. They go on the packet under their MQTT 5 names
// (`properties`), which the session store keeps with the queued message for later readers, while
// mqtt-packet leaves them out of a 3.1.1 PUBLISH on the wire.
import { Message, messageTtlMs, type Arguments, type MessageProperties } from '../../core/model/message.ts'
import { routingKeyToTopic, topicToRoutingKey } from './topic-mapping.ts'

export const QOS_HEADER = 'x-mqtt-publish-qos'
export const RETAIN_HEADER = 'x-mqtt-retain'

/** The fields of an MQTT PUBLISH this mapping reads. */
export interface MqttPublish {
  topic: string
  payload: Buffer | string
  qos: number
  retain: boolean
}

/** The publish aedes delivers for a core message (aedes-packet's input shape). */
export interface MqttOutgoing {
  cmd: 'publish'
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
  dup: boolean
  properties?: Mqtt5Properties
  /** Absolute expiry (ms since epoch); aedes honours it for queued messages. */
  messageExpiry?: number
}

export interface Mqtt5Properties {
  contentType?: string
  correlationData?: Buffer
  responseTopic?: string
  messageExpiryInterval?: number
  userProperties?: Record<string, string>
}

// One frozen properties object per (QoS, retain): MQTT 3.1.1 publishes carry nothing else, and the
// publish path then allocates no properties per message.
const PROPERTIES: ReadonlyArray<Readonly<MessageProperties>> = [0, 1, 2].flatMap(qos => [false, true].map(retain => Object.freeze({
  deliveryMode: qos > 0 ? 2 : 1,
  headers: Object.freeze(retain ? { [QOS_HEADER]: qos, [RETAIN_HEADER]: true } : { [QOS_HEADER]: qos })
})))

export function mqttToCoreMessage (packet: MqttPublish, exchange: string, nowMs: number): Message {
  const qos = packet.qos === 2 ? 2 : packet.qos === 1 ? 1 : 0
  const properties = PROPERTIES[qos * 2 + (packet.retain ? 1 : 0)] as MessageProperties
  const body = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
  return new Message(exchange, topicToRoutingKey(packet.topic), properties, body, nowMs, null)
}

export function isRetained (message: Message): boolean {
  return message.properties.headers?.[RETAIN_HEADER] === true
}

/** QoS of a core message for MQTT: transient -> 0; persistent -> its MQTT publish QoS, else 1. */
export function mqttQosOf (message: Message): 0 | 1 | 2 {
  if (!message.persistent) return 0
  const q = message.properties.headers?.[QOS_HEADER]
  return q === 2 ? 2 : 1
}

export function coreToMqttPublish (message: Message): MqttOutgoing {
  const out: MqttOutgoing = {
    cmd: 'publish',
    topic: routingKeyToTopic(message.routingKey),
    payload: message.body,
    qos: mqttQosOf(message),
    retain: isRetained(message),
    dup: false
  }
  const props = mqtt5Properties(message)
  if (props !== undefined) out.properties = props
  const ttl = safeTtlMs(message)
  if (ttl !== undefined) out.messageExpiry = message.publishedAtMs + ttl
  return out
}

function mqtt5Properties (message: Message): Mqtt5Properties | undefined {
  const p = message.properties
  const props: Mqtt5Properties = {}
  if (p.contentType !== undefined) props.contentType = p.contentType
  if (p.correlationId !== undefined) props.correlationData = Buffer.from(p.correlationId)
  if (p.replyTo !== undefined) props.responseTopic = routingKeyToTopic(p.replyTo)
  const ttl = safeTtlMs(message)
  if (ttl !== undefined) props.messageExpiryInterval = Math.ceil(ttl / 1000)
  const user = userProperties(p.headers)
  if (user !== undefined) props.userProperties = user
  return Object.keys(props).length === 0 ? undefined : props
}

/** Headers as MQTT 5 user properties (strings), without the x-mqtt-* ones this mapping owns. */
function userProperties (headers: Arguments | undefined): Record<string, string> | undefined {
  if (headers === undefined) return undefined
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (k === QOS_HEADER || k === RETAIN_HEADER) continue
    out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)
  }
  return Object.keys(out).length === 0 ? undefined : out
}

function safeTtlMs (message: Message): number | undefined {
  try { return messageTtlMs(message.properties) } catch { return undefined }
}
