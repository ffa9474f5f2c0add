import { createConnection, type NetConnectOpts, type Socket } from 'node:net'
import { MqttClient } from 'mqtt'

/** mqtt.js calls its debug logger several times per packet; a no-op saves ~5% of a generator's CPU. */
const noLog = (): void => {}

/**
 * 64 KiB instead of Node's 16 KiB: a pipelining publisher fills the socket buffer ~4x less
 * often; measured here, that cut a QoS 0 publisher's CPU per message by about a quarter.
 */
const SOCKET_HIGH_WATER_MARK_BYTES = 64 * 1024

/**
 * Every benchmark client speaks MQTT 3.1.1 over a TCP socket the harness builds itself
 * (TCP_NODELAY, larger write buffer, coalesced writes) and never reconnects behind the
 * harness's back.
 */
export function connectClient(url: string, clientId: string, clean: boolean): Promise<MqttClient> {
  const { hostname, port } = new URL(url)
  // Node passes socket options on to stream.Duplex; @types/node does not declare the write buffer size.
  const socketOptions: NetConnectOpts & { writableHighWaterMark: number } = {
    host: hostname.replace(/^\[(.*)\]$/, '$1'),
    port: port === '' ? 1883 : Number(port),
    noDelay: true,
    writableHighWaterMark: SOCKET_HIGH_WATER_MARK_BYTES
  }
  const client = new MqttClient(() => coalesceWritev(createConnection(socketOptions)), {
    protocolVersion: 4,
    clientId,
    clean,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    keepalive: 60,
    log: noLog
  })
  return new Promise((resolve, reject) => {
    const settle = (err: Error | undefined): void => {
      client.off('connect', onConnect).off('error', onError).off('close', onClose)
      if (err === undefined) {
        resolve(client)
        return
      }
      client.end(true)
      reject(new Error(`${clientId}: connect ${url}: ${err.message}`))
    }
    const onConnect = (): void => settle(undefined)
    const onError = (err: Error): void => settle(err)
    const onClose = (): void => settle(new Error('connection closed before CONNACK'))
    client.on('connect', onConnect).on('error', onError).on('close', onClose)
  })
}

type WritevChunks = Array<{ chunk: Buffer | string }>
type WriteCallback = (err?: Error | null) => void

/**
 * Node hands a corked socket's writes to `_writev` (the stream implementer's hook) as an array
 * of small buffers, 4-5 per MQTT packet; one concatenated buffer costs a memcpy instead of an
 * iovec per piece: measured here, ~20% of a QoS 0 publisher's CPU.
 */
function coalesceWritev(socket: Socket): Socket {
  const hooks = socket as unknown as {
    _write(chunk: Buffer, encoding: string, callback: WriteCallback): void
    _writev(chunks: WritevChunks, callback: WriteCallback): void
  }
  hooks._writev = (chunks, callback) => {
    const buffers = chunks.map(({ chunk }) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk))
    hooks._write(Buffer.concat(buffers), 'buffer', callback)
  }
  return socket
}

/**
 * mqtt.js writes each ack in its own socket write (it uncorks on the next tick, and it handles
 * one incoming packet per tick). Holding the socket corked until the event loop's check phase
 * sends all acks produced by one read in a single write, as a tuned client would.
 */
export function batchWritesPerRead(client: MqttClient): void {
  const socket = client.stream as unknown as Socket
  let corked = false
  const uncork = (): void => {
    corked = false
    socket.uncork()
  }
  socket.on('data', () => {
    if (corked) return
    corked = true
    socket.cork()
    setImmediate(uncork)
  })
}

/** Clean DISCONNECT; falls back to closing the socket if the broker does not answer. */
export async function endClient(client: MqttClient): Promise<void> {
  const timer = setTimeout(() => client.end(true), 5000)
  await client.endAsync()
  clearTimeout(timer)
}

/**
 * Removes a persistent session: connecting with clean=true discards the stored session
 * [MQTT-3.1.2-6], and the clean session ends at disconnect.
 */
export async function discardSession(url: string, clientId: string): Promise<void> {
  await endClient(await connectClient(url, clientId, true))
}
