// A bridge link to an MQTT remote (Mosquitto, RabbitMQ's MQTT plugin, EMQX, another Wharf) with
// mqtt.js: what goes up is published at the bridge's QoS, each send settled by its PUBACK (QoS 1)
// or PUBCOMP (QoS 2), or once written (QoS 0, which the remote never confirms); the `in` topics are
// subscriptions of a session that outlives the edge (clean=false, or a Session Expiry), and a
// message coming down is acknowledged only after it is committed locally.
import mqtt, { type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt'
import { NODE_ID_PROPERTY, VIA_HEADER } from '../loop-marks.ts'
import { coreMessage, publishOptions, userProperty } from './mqtt-message.ts'
import { defaultRemoteName, PendingSends, type DownlinkHandler, type Downlinked, type LinkFactory, type LinkOptions, type RemoteLink } from './link.ts'
import { linkTlsOptions } from './tls-options.ts'

const RECEIVE_MAXIMUM_DEFAULT = 65_535 // [MQTT-3.2.2.3.3] absent: no limit below 65,535

export const mqttLink: LinkFactory = async opts => {
  const { bridge } = opts
  const url = new URL(bridge.url)
  const v5 = bridge.mqtt.protocolVersion === 5
  const options: IClientOptions = {
    clientId: bridge.mqtt.clientId ?? defaultRemoteName('wharf', opts.nodeId, bridge.name, '-'),
    clean: bridge.mqtt.cleanSession,
    protocolVersion: bridge.mqtt.protocolVersion,
    keepalive: bridge.keepAliveSeconds,
    reconnectPeriod: 0, // the bridge reconnects, with its own backoff
    connectTimeout: bridge.connectTimeoutMs,
    resubscribe: false,
    manualConnect: true,
    ...(url.protocol === 'mqtts:' || url.protocol === 'wss:' ? linkTlsOptions(bridge.tls, url) : {})
  }
  if (v5) options.properties = { sessionExpiryInterval: bridge.mqtt.cleanSession ? 0 : bridge.mqtt.sessionExpirySeconds }
  const client = mqtt.connect(url.toString(), options)
  const pending = new PendingSends()
  // Installed before CONNECT: a persistent session's queued messages can follow the CONNACK at once.
  client.handleMessage = downlinkHandler(client, opts.downlink, pending, v5)
  let cause: Error | undefined
  client.on('error', err => {
    cause = err
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
    if (opts.downlink !== null) await subscribe(client, opts, v5)
    return link(client, connack, pending, opts, v5)
  } catch (err) {
    client.end(true)
    throw err
  }
}

function link(client: MqttClient, connack: IConnackPacket, pending: PendingSends, opts: LinkOptions, v5: boolean): RemoteLink {
  const { bridge } = opts
  const nodeId = connack.properties?.userProperties?.[NODE_ID_PROPERTY]
  const receiveMaximum = connack.properties?.receiveMaximum ?? RECEIVE_MAXIMUM_DEFAULT
  return {
    remoteNodeId: typeof nodeId === 'string' ? nodeId : null,
    windowMax: Math.min(bridge.inflightMessagesMax, receiveMaximum),
    closed: pending.closed,
    send(topic, message, headers, nowMs) {
      return pending.track((resolve, reject) => {
        client.publish(topic, message.body, publishOptions(message, headers, bridge.mqtt.qos, v5, nowMs), err => {
          if (err === undefined || err === null) resolve()
          else reject(new Error(`the remote refused a message: ${err.message}`))
        })
      })
    },
    async close() {
      pending.fail(new Error('link closed'))
      await new Promise<void>(resolve => client.end(true, {}, () => resolve()))
    }
  }
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

async function subscribe(client: MqttClient, opts: LinkOptions, v5: boolean): Promise<void> {
  const qos = opts.bridge.mqtt.qos
  // MQTT 5: No Local keeps this connection's own publishes from coming back [MQTT-3.8.3-3], Retain
  // As Published keeps the retain flag of live messages (they are retained here too, as Mosquitto's
  // bridge does), and Retain Handling 1 sends retained messages only to a new subscription, not at
  // every reconnect.
  const granted = await client.subscribeAsync(opts.bridge.in.topics, v5 ? { qos, nl: true, rap: true, rh: 1 } : { qos })
  for (const g of granted) {
    // The granted QoS is the SUBACK's return (3.1.1) or reason code (5.0): 0x80 and up refuse.
    if (g.qos >= 0x80) throw new Error(`the remote refused the subscription to '${g.topic}' (SUBACK 0x${g.qos.toString(16)})`)
  }
}

function downlinkHandler(client: MqttClient, handle: DownlinkHandler | null, pending: PendingSends, v5: boolean): MqttClient['handleMessage'] {
  return (packet, done) => {
    if (handle === null) {
      done()
      return
    }
    handle(downlinked(packet, v5)).then(
      () => done(),
      err => {
        // No PUBACK: the remote session sends it again once this link is gone and the next one connects.
        pending.fail(new Error(`downlink: ${(err as Error).message}`))
        client.end(true)
      }
    )
  }
}

function downlinked(packet: IPublishPacket, v5: boolean): Downlinked {
  const via = v5 ? userProperty(packet, VIA_HEADER) : undefined
  return {
    topic: packet.topic,
    via: via === undefined || via === '' ? [] : via.split(','),
    toMessage: (localTopic, exchange, nowMs, marks) => coreMessage(packet, localTopic, exchange, nowMs, marks)
  }
}
