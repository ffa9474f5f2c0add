// PUBLISH from a client, as named steps: the inbound window, the topic (alias), the checks (topic,
// QoS, payload format, ACL, $ topics, disk watermark), QoS 2 de-duplication, routing through core
// once, then the ack after every durable copy is committed [DESIGN §3].
import type { IPublishPacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import type { PublishProperties } from '../properties.ts'
import { mqttToCoreMessage } from '../properties.ts'
import { ReasonCode } from '../codec/reason-codes.ts'
import { isReservedTopic, isWellFormedUtf8, responseTopicProblem, topicNameProblem } from '../topic-grammar.ts'
import { ownedBytes } from '../../../core/util/owned-bytes.ts'

type PublishPacket = IPublishPacket & { userPropertiesOrdered?: Array<[string, string]> }

export function handlePublish(engine: Engine, conn: MqttConnection, p: PublishPacket): void {
  const receivedMs = engine.clock.monotonicMs()
  const qos = p.qos
  const id = p.messageId ?? 0
  if (qos > engine.config.maximumQos) {
    conn.disconnect(ReasonCode.QosNotSupported, `QoS ${qos} above the maximum ${engine.config.maximumQos}`)
    return
  } // [MQTT-3.2.2-11]
  if (qos > 0 && ++conn.inboundUnacked > engine.config.receiveMaximum && conn.protocolVersion === 5) {
    conn.disconnect(ReasonCode.ReceiveMaximumExceeded, `more than Receive Maximum ${engine.config.receiveMaximum} unacknowledged publishes`) // [MQTT-3.3.4-7]
    return
  }
  const topic = resolveTopic(engine, conn, p)
  if (topic === null) return
  const session = conn.session
  if (qos === 2 && session !== null && session.qos2Received.has(id)) {
    // A resend of a message taken already: PUBREC again, not routed again [MQTT-4.3.3-10]. Before the
    // checks below, which may answer otherwise now (a permission revoked, the disk watermark): a
    // refusing PUBREC would end the client's exchange for a message that was delivered, and its id,
    // still held here, would drop the client's next message under it as a resend [MQTT-4.3.3-9].
    conn.inboundUnacked-- // counted when it first came
    conn.ackAfter(undefined, { cmd: 'pubrec', messageId: id })
    return
  }
  const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload
  const props = p.properties
  // A responder would publish to it: a wildcard there is the requester's Protocol Error, as EMQX 5 has it [MQTT-3.3.2-14].
  const responseProblem = responseTopicProblem(props?.responseTopic)
  if (responseProblem !== null) {
    conn.protocolError(`Response Topic: ${responseProblem}`)
    return
  }
  if (props?.payloadFormatIndicator === true && !isWellFormedUtf8(payload)) {
    refuse(conn, p, ReasonCode.PayloadFormatInvalid, 'payload is not UTF-8 although its format indicator says so') // §3.3.2.3.2
    return
  }
  const access = conn.access
  if (isReservedTopic(topic) || access === null || !engine.access.canPublish(access, topic)) {
    engine.counters.publishDenied.inc()
    engine.warnOnce.warn('mqtt publish denied', { clientId: conn.clientId, username: conn.username, topic })
    refuse(conn, p, ReasonCode.NotAuthorized, `publish to '${topic}' not authorized`)
    return
  }
  if (qos > 0 && engine.refusing !== null) {
    engine.counters.refused.inc()
    engine.warnOnce.warn('mqtt publish refused: ' + engine.refusing, { clientId: conn.clientId, topic, qos })
    if (conn.protocolVersion === 5) refuse(conn, p, ReasonCode.QuotaExceeded, engine.refusing)
    else conn.fail('publish refused: ' + engine.refusing) // 3.1.1 has no refusal: not acknowledged, resent later
    return
  }
  // The payload is a view into the socket's read chunk: a queued message must not keep the chunk alive.
  const body = ownedBytes(payload)
  const message = mqttToCoreMessage(
    { topic, payload: body, qos, retain: p.retain, properties: props === undefined ? undefined : publishProperties(props, p.userPropertiesOrdered) },
    engine.exchange,
    engine.nowMs()
  )
  message.publisher = session
  engine.counters.published.inc()
  engine.stats.received++
  conn.messages.publish++
  conn.usage.messagesIn++
  conn.usage.bytesIn += payload.length
  let result
  try {
    result = engine.publish(message)
  } catch (err) {
    refuse(conn, p, ReasonCode.UnspecifiedError, `publish: ${(err as Error).message}`)
    return
  }
  if (qos === 0) return
  const reasonCode = result.routed === 0 && conn.protocolVersion === 5 ? ReasonCode.NoMatchingSubscribers : ReasonCode.Success
  if (qos === 1) {
    conn.ackAfter(result.stored, { cmd: 'puback', messageId: id, reasonCode }, receivedMs)
    return
  }
  let stored = result.stored
  if (session !== null) {
    session.qos2Received.add(id)
    if (session.durable) {
      const marked = engine.sessions.store.putQos2(conn.clientId, id)
      stored = stored === undefined ? marked : Promise.all([stored, marked]).then(() => {})
    }
  }
  conn.ackAfter(stored, { cmd: 'pubrec', messageId: id, reasonCode }, receivedMs)
}

/** The topic, with Topic Alias applied [MQTT-3.3.2-12]; null when the connection was closed. */
function resolveTopic(engine: Engine, conn: MqttConnection, p: PublishPacket): string | null {
  let topic = p.topic
  const alias = p.properties?.topicAlias
  if (alias !== undefined) {
    if (alias === 0 || alias > engine.config.topicAliasMaximum) {
      // [MQTT-3.3.2-8] [MQTT-3.3.2-9]
      conn.disconnect(ReasonCode.TopicAliasInvalid, `topic alias ${alias} outside 1-${engine.config.topicAliasMaximum}`)
      return null
    }
    const aliases = (conn.inAliases ??= new Map())
    if (topic === '') {
      const known = aliases.get(alias)
      if (known === undefined) {
        conn.protocolError(`topic alias ${alias} was never set`)
        return null
      }
      topic = known
    } else {
      aliases.set(alias, topic)
    }
  }
  if (topic === '') {
    // No alias to take a name from: the spec calls this a Protocol Error (§3.3.2.3.4), not an invalid
    // name (0x90 is for names a PUBLISH may not carry), and Mosquitto answers 0x82 too [MQTT-4.7.3-1].
    if (conn.protocolVersion === 5) conn.protocolError('zero-length Topic Name without a Topic Alias')
    else conn.fail('publish topic: topic is empty') // [MQTT-4.7.3-1]: 3.1.1 can only close
    return null
  }
  const problem = topicNameProblem(topic)
  if (problem !== null) {
    if (conn.protocolVersion === 5) conn.disconnect(ReasonCode.TopicNameInvalid, `topic: ${problem}`)
    else conn.fail(`publish topic: ${problem}`)
    return null
  }
  return topic
}

function publishProperties(props: NonNullable<IPublishPacket['properties']>, ordered: Array<[string, string]> | undefined): PublishProperties {
  const out: PublishProperties = {}
  if (props.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = props.payloadFormatIndicator ? 1 : 0
  if (props.messageExpiryInterval !== undefined) out.messageExpiryInterval = props.messageExpiryInterval
  if (props.contentType !== undefined) out.contentType = props.contentType
  if (props.responseTopic !== undefined) out.responseTopic = props.responseTopic
  if (props.correlationData !== undefined) out.correlationData = props.correlationData
  if (ordered !== undefined && ordered.length > 0) out.userProperties = ordered
  return out
}

/**
 * A publish not taken: MQTT 5 answers with the reason on the ack; 3.1.1 acknowledges and drops it,
 * as Mosquitto does (a 3.1.1 client has no way to hear a refusal).
 */
function refuse(conn: MqttConnection, p: PublishPacket, reasonCode: number, reason: string): void {
  const id = p.messageId ?? 0
  if (p.qos === 0) return
  const v5 = conn.protocolVersion === 5
  const properties = v5 && conn.problemInformation ? { reasonString: reason.slice(0, 200) } : undefined
  conn.ackAfter(undefined, { cmd: p.qos === 1 ? 'puback' : 'pubrec', messageId: id, reasonCode: v5 ? reasonCode : 0, properties } as never)
  if (p.qos === 2 && !v5) conn.session?.qos2Received.add(id)
}
