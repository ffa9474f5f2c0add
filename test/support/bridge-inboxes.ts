// Consumers at a bridge's remote that keep everything they receive, in order, across restarts of the
// remote: an AMQP consumer on a durable queue (reconnecting), or a persistent MQTT session.
import amqp, { type ChannelModel } from 'amqplib'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'

export interface Received {
  readonly topic: string
  readonly body: string
  readonly bytes: Buffer
  /** AMQP: the delivery's properties; MQTT: the PUBLISH properties (5.0) or undefined. */
  readonly properties: Record<string, unknown> | undefined
  /** The remote's own redelivery to this consumer (AMQP redelivered, MQTT DUP): not the bridge's doing. */
  readonly redelivered: boolean
}

export interface RemoteInbox {
  readonly messages: Received[]
  bodies(): string[]
  close(): Promise<void>
}

/**
 * A durable queue bound on exchange with keys, consumed with acks; after a lost connection it
 * connects again every retryMs until closed.
 */
export async function amqpInbox(url: string, queue: string, bindingKeys: readonly string[], exchange = 'amq.topic', retryMs = 200): Promise<RemoteInbox> {
  const messages: Received[] = []
  let conn: ChannelModel | null = null
  let closing = false
  const open = async (): Promise<void> => {
    const c = await amqp.connect(url)
    c.on('error', () => {})
    const ch = await c.createChannel()
    await ch.assertQueue(queue, { durable: true })
    for (const key of bindingKeys) await ch.bindQueue(queue, exchange, key)
    await ch.prefetch(500)
    await ch.consume(queue, m => {
      if (m === null) return
      messages.push({
        topic: m.fields.routingKey.replaceAll('.', '/'),
        body: m.content.toString(),
        bytes: m.content,
        properties: m.properties as unknown as Record<string, unknown>,
        redelivered: m.fields.redelivered
      })
      ch.ack(m)
    })
    conn = c
    c.on('close', () => {
      conn = null
      if (!closing) retry()
    })
  }
  const retry = (): void => {
    setTimeout(() => {
      if (!closing) open().catch(retry)
    }, retryMs)
  }
  await open()
  return {
    messages,
    bodies: () => messages.map(m => m.body),
    close: async () => {
      closing = true
      await (conn as ChannelModel | null)?.close().catch(() => {})
    }
  }
}

/** A persistent MQTT session subscribed to filter; mqtt.js reconnects it every retryMs. */
export async function mqttInbox(url: string, filter: string, clientId: string, protocolVersion: 4 | 5, retryMs = 200): Promise<RemoteInbox> {
  const messages: Received[] = []
  const opts: IClientOptions = { clientId, clean: false, protocolVersion, reconnectPeriod: retryMs, connectTimeout: 5000 }
  if (protocolVersion === 5) opts.properties = { sessionExpiryInterval: 3600 }
  const client: MqttClient = mqtt.connect(url, opts)
  client.on('error', () => {})
  client.on('message', (topic, payload, packet) => {
    messages.push({
      topic,
      body: payload.toString(),
      bytes: payload,
      properties: packet.properties as Record<string, unknown> | undefined,
      redelivered: packet.dup
    })
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mqtt inbox ${url}: no CONNACK within 5 s`)), 5000)
    client.once('connect', () => {
      clearTimeout(timer)
      resolve()
    })
  })
  await client.subscribeAsync(filter, { qos: 1 })
  return {
    messages,
    bodies: () => messages.map(m => m.body),
    close: async () => {
      await client.endAsync(true).catch(() => {})
    }
  }
}
