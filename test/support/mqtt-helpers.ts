import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'

export interface Received { topic: string, payload: string, qos: number, retain: boolean, dup: boolean, messageId: number | undefined, properties: Record<string, unknown> | undefined }

// Messages are recorded from the moment the client exists: a persistent session's queued messages
// can arrive in the same TCP read as the CONNACK, and mqtt.js emits them before `await connect()`
// returns to the caller, so a listener attached afterwards would miss them.
const inboxes = new WeakMap<MqttClient, { messages: Received[], listeners: Array<() => void> }>()

function record (client: MqttClient): { messages: Received[], listeners: Array<() => void> } {
  let inbox = inboxes.get(client)
  if (inbox === undefined) {
    const created = { messages: [] as Received[], listeners: [] as Array<() => void> }
    client.on('message', (topic, payload, packet) => {
      created.messages.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain, dup: packet.dup, messageId: packet.messageId, properties: packet.properties as Record<string, unknown> | undefined })
      for (const l of [...created.listeners]) l()
    })
    inboxes.set(client, created)
    inbox = created
  }
  return inbox
}

/** Connect with mqtt.js; rejects on error or after timeoutMs. reconnect is off so a refusal is seen. */
export async function connect (url: string, opts: IClientOptions = {}, timeoutMs = 5000): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: timeoutMs, ...opts })
  record(client)
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { client.end(true); reject(new Error(`connect ${url}: no CONNACK within ${timeoutMs} ms`)) }, timeoutMs)
    // Only these listeners go at CONNACK: mqtt.js keeps its own 'close' listener, which marks the
    // client disconnected (without it, end() on a client the server closed never returns).
    const onError = (err: Error): void => { clearTimeout(timer); client.end(true); reject(err) }
    const onClose = (): void => { clearTimeout(timer); client.end(true); reject(new Error(`connect ${url}: connection closed before CONNACK`)) }
    client.once('connect', () => { clearTimeout(timer); client.off('error', onError); client.off('close', onClose); client.on('error', () => {}); resolve(client) })
    client.once('error', onError)
    client.once('close', onClose)
  })
}

/** Messages since the client was created (by connect()), or from now on; wait for a count with a bound. */
export function collector (client: MqttClient): { messages: Received[], waitFor(n: number, timeoutMs?: number): Promise<Received[]> } {
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

export async function end (...clients: Array<MqttClient | undefined>): Promise<void> {
  await Promise.all(clients.map(c => c ? c.endAsync(true).catch(() => {}) : Promise.resolve()))
}

export { sleep } from './wait.ts'

/** Resolves when the client's connection closes, or rejects after timeoutMs. */
export function closed (client: MqttClient, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!client.connected) { resolve(); return }
    const timer = setTimeout(() => reject(new Error(`connection still open after ${timeoutMs} ms`)), timeoutMs)
    client.once('close', () => { clearTimeout(timer); resolve() })
  })
}
