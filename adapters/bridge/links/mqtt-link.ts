// A bridge link to an MQTT remote (Mosquitto, RabbitMQ's MQTT plugin, EMQX, another Wharf) with
// mqtt.js: what goes up is published at the bridge's QoS, each send settled by its PUBACK (QoS 1)
// or PUBCOMP (QoS 2), or once written (QoS 0, which the remote never confirms); the `in` topics are
// subscriptions of a session that outlives the edge (clean=false, or a Session Expiry), and a
// message coming down is acknowledged (PUBACK, PUBREC) only after it is committed locally. A message
// goes up under the packet id its queue entry's seq names, also when sent again (mqtt-uplink-ids.ts).
import mqtt, { type IClientOptions, type IClientPublishOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt'
import mqttPacket, { type ISubackPacket } from 'mqtt-packet'
import type { Message } from '../../../core/model/message.ts'
import { reasonName } from '../../mqtt/codec/reason-codes.ts'
import { NODE_ID_PROPERTY, upHeaders, VIA_HEADER } from '../loop-marks.ts'
import { coreMessage, publishOptions, userProperty } from './mqtt-message.ts'
import { AckReasonCodeFilter } from './mqtt-ack-codes.ts'
import { defaultRemoteName, PendingSends, type Downlinked, type LinkFactory, type LinkOptions, type QueuePlace, type RemoteLink } from './link.ts'
import { MessageRefusal, mqttAckRefusal } from './message-refusal.ts'
import { qos2IncomingStore, takeQos2 } from './mqtt-qos2-downlink.ts'
import { uplinkLimits } from './mqtt-remote-limits.ts'
import type { DirectedIdProvider } from './mqtt-uplink-ids.ts'
import { watchUnrouted } from './mqtt-unrouted.ts'
import { linkTlsOptions } from './tls-options.ts'

const RECEIVE_MAXIMUM_DEFAULT = 65_535 // [MQTT-3.2.2.3.3] absent: no limit below 65,535
/** A PUBLISH whose body is this much under the remote's Maximum Packet Size is not measured (topic and properties fit). */
const PACKET_SIZE_HEADROOM_BYTES = 65_536

export const mqttLink: LinkFactory = async opts => {
  const { bridge } = opts
  const url = new URL(bridge.url)
  const v5 = bridge.mqtt.protocolVersion === 5
  const clientId = bridge.mqtt.clientId ?? defaultRemoteName('wharf', opts.nodeId, bridge.name, '-')
  opts.receipts.open(clientId)
  const ids = opts.uplinkIds.provider()
  const options: IClientOptions = {
    clientId,
    clean: bridge.mqtt.cleanSession,
    protocolVersion: bridge.mqtt.protocolVersion,
    keepalive: bridge.keepAliveSeconds,
    reconnectPeriod: 0, // the bridge reconnects, with its own backoff
    connectTimeout: bridge.connectTimeoutMs,
    resubscribe: false,
    manualConnect: true,
    incomingStore: qos2IncomingStore(opts.receipts),
    messageIdProvider: ids,
    ...(url.protocol === 'mqtts:' || url.protocol === 'wss:' ? linkTlsOptions(bridge.tls, url) : {})
  }
  if (v5) options.properties = { sessionExpiryInterval: bridge.mqtt.cleanSession ? 0 : bridge.mqtt.sessionExpirySeconds }
  const client = mqtt.connect(url.toString(), options)
  const acks = v5 ? readAcksThrough(client, new AckReasonCodeFilter()) : null
  if (v5) watchUnrouted(client, opts.onUnrouted)
  const pending = new PendingSends()
  // Installed before CONNECT: a persistent session's queued messages can follow the CONNACK at once.
  const pause = installDownlink(client, opts, pending, v5)
  let cause: Error | undefined
  client.on('error', err => {
    if (pause.isOwnRefusal(err)) return
    cause = err
    // Once connected, an error is the remote sending what mqtt.js cannot read (it drops the rest of
    // that read, acks included): the link ends, so nothing waits for a confirm that will not come.
    if (client.connected && !pending.failed) {
      pending.fail(new Error(`the remote sent what the link cannot read: ${err.message}`))
      client.end(true)
    }
  })
  client.on('packetreceive', packet => {
    if (packet.cmd === 'disconnect')
      cause = new Error(
        `the remote disconnected: reason ${packet.reasonCode ?? 0}${packet.properties?.reasonString === undefined ? '' : ' ' + packet.properties.reasonString}`
      )
  })
  client.on('close', () => pending.fail(new Error(`connection closed${cause === undefined ? '' : ': ' + cause.message}`)))
  try {
    const connack = await connected(client, pending, bridge.connectTimeoutMs)
    opts.uplinkIds.attach(client, connack.sessionPresent, bridge.mqtt.protocolVersion)
    void pending.closed.then(() => opts.uplinkIds.detach(client))
    const inRefused = opts.downlink === null ? [] : await subscribe(client, opts, v5)
    return link(client, connack, pending, opts, v5, acks, inRefused, ids)
  } catch (err) {
    client.end(true)
    throw err
  }
}

function link(
  client: MqttClient,
  connack: IConnackPacket,
  pending: PendingSends,
  opts: LinkOptions,
  v5: boolean,
  acks: AckReasonCodeFilter | null,
  inRefused: readonly string[],
  ids: DirectedIdProvider
): RemoteLink {
  const { bridge } = opts
  const nodeId = connack.properties?.userProperties?.[NODE_ID_PROPERTY]
  const receiveMaximum = connack.properties?.receiveMaximum ?? RECEIVE_MAXIMUM_DEFAULT
  const packetBytesMax = connack.properties?.maximumPacketSize
  const limits = uplinkLimits(connack, bridge.mqtt.qos, bridge.out.topics.length > 0)
  const uplinkOptions = (message: Message, nowMs: number): IClientPublishOptions => {
    const options = publishOptions(message, upHeaders(message.properties.headers, opts.nodeId), limits.qos, v5, nowMs)
    if (!limits.retainAvailable) options.retain = false
    return options
  }
  return {
    remoteNodeId: typeof nodeId === 'string' ? nodeId : null,
    windowMax: Math.min(bridge.inflightMessagesMax, receiveMaximum),
    remoteLimits: limits.notes,
    inRefused,
    closed: pending.closed,
    unsendable(topic, message, nowMs) {
      // [MQTT-3.1.2-24] a packet over the remote's Maximum Packet Size must not be sent: it could never be.
      if (packetBytesMax === undefined || message.bodyBytes + PACKET_SIZE_HEADROOM_BYTES <= packetBytesMax) return null
      const tooLarge = oversize(topic, message, uplinkOptions(message, nowMs), packetBytesMax)
      return tooLarge === null ? null : new MessageRefusal(tooLarge, true)
    },
    send(topic, message, nowMs, place) {
      const options = uplinkOptions(message, nowMs)
      return pending.track((resolve, reject) => {
        const publish = (): void => {
          client.publish(topic, message.body, options, (err, ack) => {
            if (err === undefined || err === null) return resolve()
            const replaced = acks?.takeReplaced(ack?.messageId)
            const code = replaced ?? (err as { code?: unknown }).code
            if (typeof code !== 'number') reject(new Error(`the remote refused a message: ${err.message}`))
            else if (replaced !== undefined) reject(mqttAckRefusal(code, `a ${ack?.cmd ?? 'PUBACK'} reason code MQTT 5 allows only in DISCONNECT`))
            else reject(mqttAckRefusal(code, err.message))
          })
        }
        const qos = options.qos ?? 0
        if (qos === 0) publish()
        else sendUnderItsId(opts, ids, place, qos, options, publish, resolve, reject)
      })
    },
    async close() {
      pending.fail(new Error('link closed'))
      await new Promise<void>(resolve => client.end(true, {}, () => resolve()))
    }
  }
}

/**
 * A QoS 1/2 message under the packet id its entry's seq names, DUP when it may have gone before, or
 * its PUBREL only when the remote had it (mqtt-uplink-ids.ts); maybe after an exchange its id clashes with.
 */
function sendUnderItsId(
  opts: LinkOptions,
  ids: DirectedIdProvider,
  place: QueuePlace,
  qos: 1 | 2,
  options: IClientPublishOptions,
  publish: () => void,
  resolve: () => void,
  reject: (err: Error) => void
): void {
  opts.uplinkIds.send({
    seq: place.seq,
    qos,
    redelivered: place.redelivered,
    publish(packetId, dup) {
      options.dup = dup
      ids.direct(packetId)
      publish()
      // mqtt.js allocates in publish() once connected; one that queued it instead would give it another id.
      if (ids.takeUnused() !== null) reject(new Error(`publish: mqtt.js did not send the PUBLISH under packet id ${packetId} at once`))
    },
    confirmed: resolve
  })
}

/** Why this PUBLISH is over the remote's Maximum Packet Size, or null when it is not. */
function oversize(topic: string, message: Message, options: IClientPublishOptions, packetBytesMax: number): string | null {
  const qos = options.qos ?? 0
  const packet = {
    cmd: 'publish' as const,
    topic,
    payload: message.body,
    qos,
    retain: options.retain ?? false,
    dup: false,
    messageId: 1,
    properties: options.properties ?? {}
  }
  const bytes = mqttPacket.generate(packet, { protocolVersion: 5 }).length
  return bytes > packetBytesMax ? `a PUBLISH of ${bytes} bytes is larger than the remote's Maximum Packet Size ${packetBytesMax}` : null
}

/**
 * The remote's bytes pass through the filter before mqtt.js parses them: a 'data' listener added
 * where the stream is built runs before the one mqtt.js pipes to its parser, on the same Buffer.
 * An mqtt.js without that internal (not 5.x) reads them as they come: null, and the link still
 * ends on the parse error rather than waiting for acks that will not come.
 */
function readAcksThrough(client: MqttClient, filter: AckReasonCodeFilter): AckReasonCodeFilter | null {
  const internals = client as unknown as { streamBuilder?: (c: MqttClient) => NodeJS.ReadableStream }
  const build = internals.streamBuilder
  if (typeof build !== 'function') return null
  internals.streamBuilder = c => {
    const stream = build(c)
    stream.on('data', (chunk: Buffer) => filter.scan(chunk))
    return stream
  }
  return filter
}

function connected(client: MqttClient, pending: PendingSends, timeoutMs: number): Promise<IConnackPacket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connect: no CONNACK within ${timeoutMs} ms`)), timeoutMs)
    client.once('connect', connack => {
      clearTimeout(timer)
      resolve(connack)
    })
    void pending.closed.then(err => {
      clearTimeout(timer)
      reject(err)
    })
    client.connect()
  })
}

/**
 * Subscribes to the `in` topics, one SUBSCRIBE each; resolves with the ones the remote refused, each
 * with why. One at a time because RabbitMQ's MQTT plugin (before 3.13) answers a filter its topic
 * permissions refuse by closing the connection, without a SUBACK: the filter whose SUBSCRIBE the
 * connection closed on is skipped for reconnectMaxMs (LinkOptions.inClosedAt), so the next link
 * carries the uplink and the other `in` topics instead of failing the same way for ever.
 */
async function subscribe(client: MqttClient, opts: LinkOptions, v5: boolean): Promise<string[]> {
  const refused: string[] = []
  for (const topic of opts.bridge.in.topics) {
    const closedOn = opts.inClosedAt.reason(topic)
    if (closedOn !== null) {
      refused.push(`'${topic}': ${closedOn}`)
      continue
    }
    let code: number
    try {
      code = await subscribeOne(client, topic, opts.bridge.mqtt.qos, v5)
    } catch (err) {
      if (!client.connected)
        opts.inClosedAt.add(
          topic,
          "the remote closed the connection at its SUBSCRIBE, as RabbitMQ's MQTT plugin before 3.13 does for a topic its permissions refuse; asked again after reconnectMaxMs"
        )
      throw err
    }
    // The granted QoS is the SUBACK's return (3.1.1) or reason code (5.0): 0x80 and up refuse.
    if (code >= 0x80)
      refused.push(`'${topic}': the remote refused the subscription (SUBACK 0x${code.toString(16)} ${v5 ? reasonName(code, 'suback') : 'Failure'})`)
  }
  return refused
}

/** One filter's SUBACK return or reason code. */
function subscribeOne(client: MqttClient, topic: string, qos: 0 | 1 | 2, v5: boolean): Promise<number> {
  // MQTT 5: No Local keeps this connection's own publishes from coming back [MQTT-3.8.3-3], Retain
  // As Published keeps the retain flag of live messages (they are retained here too, as Mosquitto's
  // bridge does), and Retain Handling 1 sends retained messages only to a new subscription, not at
  // every reconnect.
  return new Promise<number>((resolve, reject) => {
    // mqtt.js fails a SUBSCRIBE whose SUBACK refuses the filter; the packet says how.
    client.subscribe(topic, v5 ? { qos, nl: true, rap: true, rh: 1 } : { qos }, (err, _granted, packet?: ISubackPacket) => {
      if (packet !== undefined) resolve((packet.granted as number[])[0] ?? 0x80)
      else reject(new Error(`subscribe '${topic}': ${err?.message ?? 'no SUBACK'}`))
    })
  })
}

/**
 * The downlink's hooks into mqtt.js: QoS 1 and 2 acknowledged only once committed locally (QoS 2 at
 * its PUBLISH, mqtt-qos2-downlink.ts), held back over the disk watermark.
 */
function installDownlink(client: MqttClient, opts: LinkOptions, pending: PendingSends, v5: boolean): { isOwnRefusal(err: Error): boolean } {
  const { bridge } = opts
  client.handleMessage = downlinkHandler(client, opts, pending, v5)
  const pause = pauseDownlinkAtDiskWatermark(client, opts, pending)
  client.options.customHandleAcks = (_topic, _message, packet: IPublishPacket, done) => {
    const refusal = pause.holdBack(packet)
    if (refusal !== null) done(refusal)
    else if (packet.qos === 2 && opts.downlink !== null)
      takeQos2(packet, downlinked(packet, v5), opts.downlink, opts.receipts).then(
        () => done(0),
        err => failDownlink(client, pending, err as Error)
      )
    else done(0)
  }
  client.on('packetreceive', packet => {
    // Accepted without our session (mqtt.js's own test of it): no QoS 2 of ours is between PUBREC and
    // PUBREL there. Here, before any packet after the CONNACK; mqtt.js emits 'connect' later.
    if (packet.cmd !== 'connack' || (v5 ? packet.reasonCode : packet.returnCode) !== 0) return
    const resumed = !bridge.mqtt.cleanSession && (bridge.mqtt.protocolVersion < 4 || packet.sessionPresent)
    if (!resumed) opts.receipts.clear().catch(err => failDownlink(client, pending, err as Error))
  })
  return pause
}

/**
 * Over the disk watermark a QoS 1/2 message from the remote gets no PUBACK/PUBREC (mqtt.js's
 * customHandleAcks refusing it), so it stays in the remote session; the remote sends such a message
 * again only when the session resumes [MQTT-4.4.0-1], so once the watermark clears a link that held
 * any back ends, and the bridge connects again. QoS 0 is never stored, and passes.
 */
function pauseDownlinkAtDiskWatermark(
  client: MqttClient,
  opts: LinkOptions,
  pending: PendingSends
): { holdBack(packet: IPublishPacket): Error | null; isOwnRefusal(err: Error): boolean } {
  const refusals = new WeakSet<Error>()
  let heldBack = 0
  const holdBack = (packet: IPublishPacket): Error | null => {
    const reason = opts.downlinkGate.reason
    if (reason === null || packet.qos === 0) return null
    heldBack++
    const refusal = new Error(`downlink paused: ${reason}`)
    refusals.add(refusal)
    return refusal
  }
  const stopListening = opts.downlinkGate.onOpen(() => {
    if (heldBack === 0) return
    pending.fail(new Error(`the disk watermark cleared: reconnecting, so that the remote sends again the ${heldBack} messages held back`))
    client.end(true)
  })
  void pending.closed.then(stopListening)
  return { holdBack, isOwnRefusal: err => refusals.has(err) }
}

/**
 * mqtt.js calls handleMessage for QoS 0 at once, for QoS 1 before its PUBACK, and for QoS 2 at PUBREL
 * before the PUBCOMP: that message went into the core at its PUBLISH (takeQos2), and only its
 * receipt is released here.
 */
function downlinkHandler(client: MqttClient, opts: LinkOptions, pending: PendingSends, v5: boolean): MqttClient['handleMessage'] {
  const handle = opts.downlink
  return (packet, done) => {
    let taken: Promise<void> | undefined
    if (packet.qos === 2) taken = opts.receipts.release(packet.messageId ?? 0)
    else if (handle !== null) taken = handle(downlinked(packet, v5))
    if (taken === undefined) done()
    else
      taken.then(
        () => done(),
        err => failDownlink(client, pending, err as Error)
      )
  }
}

/** No PUBACK/PUBREC/PUBCOMP, and nothing after it taken: the remote session sends it again once the next link connects. */
function failDownlink(client: MqttClient, pending: PendingSends, err: Error): void {
  pending.fail(new Error(`downlink: ${err.message}`))
  client.end(true)
}

function downlinked(packet: IPublishPacket, v5: boolean): Downlinked {
  const via = v5 ? userProperty(packet, VIA_HEADER) : undefined
  return {
    topic: packet.topic,
    via: via === undefined || via === '' ? [] : via.split(','),
    toMessage: (localTopic, exchange, nowMs, marks) => coreMessage(packet, localTopic, exchange, nowMs, marks)
  }
}
