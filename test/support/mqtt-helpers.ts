import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'

export interface Received {
  topic: string
  payload: string
  qos: number
  retain: boolean
  dup: boolean
  messageId: number | undefined
  properties: Record<string, unknown> | undefined
}

// Messages are recorded from the moment the client exists: a persistent session's queued messages
// can arrive in the same TCP read as the CONNACK, and mqtt.js emits them before `await connect()`
// returns to the caller, so a listener attached afterwards would miss them.
const inboxes = new WeakMap<MqttClient, { messages: Received[]; listeners: Array<() => void> }>()

function record(client: MqttClient): { messages: Received[]; listeners: Array<() => void> } {
  let inbox = inboxes.get(client)
  if (inbox === undefined) {
    const created = { messages: [] as Received[], listeners: [] as Array<() => void> }
    client.on('message', (topic, payload, packet) => {
      if (topic.startsWith(SETTLED_PREFIX)) return // settled()'s own sentinel
      created.messages.push({
        topic,
        payload: payload.toString(),
        qos: packet.qos,
        retain: packet.retain,
        dup: packet.dup,
        messageId: packet.messageId,
        properties: packet.properties as Record<string, unknown> | undefined
      })
      for (const l of [...created.listeners]) l()
    })
    inboxes.set(client, created)
    inbox = created
  }
  return inbox
}

/** The CONNACK's Session Present flag as mqtt.js received it. */
export function sessionPresent(client: MqttClient): boolean {
  const connack = (client as unknown as { connackPacket?: { sessionPresent?: boolean } }).connackPacket
  if (connack?.sessionPresent === undefined) throw new Error('sessionPresent: the client has no CONNACK')
  return connack.sessionPresent
}

const SETTLED_PREFIX = 'wharf-test/settled/'
let settledRounds = 0

/**
 * Resolves once everything the broker had queued for this client before the call has arrived: a
 * QoS 2 sentinel the client publishes to itself goes through the same session queue (FIFO) and is
 * handed to the app at PUBREL, after every earlier PUBLISH on the connection. A test that must show
 * that nothing more arrives waits for this instead of sleeping.
 */
export async function settled(client: MqttClient, timeoutMs = 5000): Promise<void> {
  const topic = `${SETTLED_PREFIX}${client.options.clientId ?? 'client'}/${++settledRounds}`
  const arrived = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeListener('message', onMessage)
      reject(new Error(`settled: sentinel ${topic} not back within ${timeoutMs} ms`))
    }, timeoutMs)
    const onMessage = (t: string): void => {
      if (t !== topic) return
      clearTimeout(timer)
      client.removeListener('message', onMessage)
      resolve()
    }
    client.on('message', onMessage)
  })
  await client.subscribeAsync(topic, { qos: 2 })
  await client.publishAsync(topic, 'settled', { qos: 2 })
  await arrived
  await client.unsubscribeAsync(topic)
}

/** Connect with mqtt.js; rejects on error or after timeoutMs. reconnect is off so a refusal is seen. */
export async function connect(url: string, opts: IClientOptions = {}, timeoutMs = 5000): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: timeoutMs, ...opts })
  record(client)
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end(true)
      reject(new Error(`connect ${url}: no CONNACK within ${timeoutMs} ms`))
    }, timeoutMs)
    // Only these listeners go at CONNACK: mqtt.js keeps its own 'close' listener, which marks the
    // client disconnected (without it, end() on a client the server closed never returns).
    const onError = (err: Error): void => {
      clearTimeout(timer)
      client.end(true)
      reject(err)
    }
    const onClose = (): void => {
      clearTimeout(timer)
      client.end(true)
      reject(new Error(`connect ${url}: connection closed before CONNACK`))
    }
    client.once('connect', () => {
      clearTimeout(timer)
      client.off('error', onError)
      client.off('close', onClose)
      client.on('error', () => {})
      resolve(client)
    })
    client.once('error', onError)
    client.once('close', onClose)
  })
}

/** Messages since the client was created (by connect()), or from now on; wait for a count with a bound. */
export function collector(client: MqttClient): { messages: Received[]; waitFor(n: number, timeoutMs?: number): Promise<Received[]> } {
  const inbox = record(client)
  const messages = inbox.messages
  return {
    messages,
    waitFor: async (n, timeoutMs = 5000) => {
      if (messages.length >= n) return messages
      await new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (messages.length < n) return
          clearTimeout(timer)
          inbox.listeners.splice(inbox.listeners.indexOf(check), 1)
          resolve()
        }
        const timer = setTimeout(() => {
          inbox.listeners.splice(inbox.listeners.indexOf(check), 1)
          reject(new Error(`expected ${n} messages, got ${messages.length} within ${timeoutMs} ms: ${JSON.stringify(messages.slice(-3))}`))
        }, timeoutMs)
        inbox.listeners.push(check)
      })
      return messages
    }
  }
}

export async function end(...clients: Array<MqttClient | undefined>): Promise<void> {
  await Promise.all(clients.map(c => (c ? c.endAsync(true).catch(() => {}) : Promise.resolve())))
}

export { eventually, sleep } from './wait.ts'

/** Resolves when the client's connection closes, or rejects after timeoutMs. */
export function closed(client: MqttClient, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!client.connected) {
      resolve()
      return
    }
    const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs)
    client.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}
