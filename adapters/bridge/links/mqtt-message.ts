// Core messages as mqtt.js publishes them and mqtt.js PUBLISH packets as core messages, through the
// MQTT adapter's one conversion (adapters/mqtt/properties.ts), so a message crossing a bridge keeps
// what it keeps crossing protocols inside Wharf. mqtt.js holds User Properties as an object (a
// repeated name: an array of values); the conversion holds them as an ordered list of pairs.
import type { IClientPublishOptions, IPublishPacket } from 'mqtt'
import { Message } from '../../../core/model/message.ts'
import { isRetained, mqttToCoreMessage, outboundProperties, type PublishProperties, type UserProperties } from '../../mqtt/properties.ts'
import { CAME_DOWN_HEADER, VIA_HEADER, withMarks } from '../loop-marks.ts'

type MqttJsUserProperties = Record<string, string | string[]>

/** Publish options of a message going up: QoS, retain, and with MQTT 5 its properties and the bridge's headers. */
export function publishOptions(message: Message, headers: Record<string, unknown>, qos: 0 | 1 | 2, v5: boolean, nowMs: number): IClientPublishOptions {
  const out: IClientPublishOptions = { qos, retain: isRetained(message) }
  if (!v5) return out
  const withHeaders = new Message(message.exchange, message.routingKey, { ...message.properties, headers }, message.body, message.publishedAtMs, null)
  const props = outboundProperties(withHeaders, nowMs) ?? {}
  // An ordered User Property list (x-mqtt-user-properties) stands for all of them: the marks go in it too.
  const user = (props.userProperties ?? []).filter(([k]) => k !== CAME_DOWN_HEADER && k !== VIA_HEADER)
  user.push([VIA_HEADER, String(headers[VIA_HEADER])])
  const mqttJs: NonNullable<IClientPublishOptions['properties']> = { userProperties: toMqttJs(user) }
  if (props.payloadFormatIndicator !== undefined) mqttJs.payloadFormatIndicator = props.payloadFormatIndicator === 1
  if (props.messageExpiryInterval !== undefined) mqttJs.messageExpiryInterval = props.messageExpiryInterval
  if (props.contentType !== undefined) mqttJs.contentType = props.contentType
  if (props.responseTopic !== undefined) mqttJs.responseTopic = props.responseTopic
  if (props.correlationData !== undefined) mqttJs.correlationData = props.correlationData
  out.properties = mqttJs
  return out
}

/** A PUBLISH from the remote as the core message published locally under localTopic, with `marks` as headers. */
export function coreMessage(packet: IPublishPacket, localTopic: string, exchange: string, nowMs: number, marks: Record<string, string>): Message {
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
  const m = mqttToCoreMessage(
    { topic: localTopic, payload, qos: packet.qos, retain: packet.retain, properties: publishProperties(packet.properties) },
    exchange,
    nowMs
  )
  return new Message(m.exchange, m.routingKey, { ...m.properties, headers: withMarks({ ...m.properties.headers }, marks) }, m.body, m.publishedAtMs, null)
}

export function userProperty(packet: IPublishPacket, name: string): string | undefined {
  const v = packet.properties?.userProperties?.[name]
  return Array.isArray(v) ? v[v.length - 1] : v
}

function publishProperties(p: IPublishPacket['properties']): PublishProperties | undefined {
  if (p === undefined) return undefined
  const out: PublishProperties = {}
  if (p.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = p.payloadFormatIndicator ? 1 : 0
  if (p.messageExpiryInterval !== undefined) out.messageExpiryInterval = p.messageExpiryInterval
  if (p.contentType !== undefined) out.contentType = p.contentType
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic
  if (p.correlationData !== undefined) out.correlationData = p.correlationData
  if (p.userProperties !== undefined) out.userProperties = fromMqttJs(p.userProperties as MqttJsUserProperties)
  return out
}

function toMqttJs(pairs: UserProperties): MqttJsUserProperties {
  const out: MqttJsUserProperties = {}
  for (const [k, v] of pairs) {
    const had = out[k]
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v]
  }
  return out
}

function fromMqttJs(props: MqttJsUserProperties): UserProperties {
  const out: UserProperties = []
  for (const [k, v] of Object.entries(props)) {
    for (const value of Array.isArray(v) ? v : [v]) out.push([k, String(value)])
  }
  return out
}
