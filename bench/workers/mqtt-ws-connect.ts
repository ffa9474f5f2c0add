import type { Duplex } from 'node:stream'
import { connectAsync, type MqttClient } from 'mqtt'

type WritevChunks = Array<{ chunk: Buffer | string }>
type WriteCallback = (err?: Error | null) => void

/** mqtt.js calls its debug logger several times per packet. */
const noLog = (): void => {}

/**
 * MQTT 3.1.1 over WebSocket with mqtt.js's own Node transport (the `ws` package, subprotocol
 * "mqtt", TCP_NODELAY set by ws), never reconnecting behind the harness's back.
 */
export async function connectWsClient(url: string, clientId: string, clean: boolean): Promise<MqttClient> {
  let client: MqttClient
  try {
    client = await connectAsync(url, { protocolVersion: 4, clientId, clean, reconnectPeriod: 0, connectTimeout: 10_000, keepalive: 60, log: noLog }, false)
  } catch (err) {
    throw new Error(`${clientId}: connect ${url}: ${err instanceof Error ? err.message : String(err)}`)
  }
  coalesceFrames(client.stream as unknown as Duplex)
  return client
}

/**
 * ws's stream sends every write as its own WebSocket frame, and mqtt-packet writes a packet in
 * pieces into a corked stream: one concatenated buffer per uncork makes that one frame, as
 * mqtt.js's browser transport does (BufferedDuplex's writev).
 */
function coalesceFrames(stream: Duplex): void {
  const hooks = stream as unknown as {
    _write(chunk: Buffer, encoding: string, callback: WriteCallback): void
    _writev?: (chunks: WritevChunks, callback: WriteCallback) => void
  }
  hooks._writev = (chunks, callback) => {
    const buffers = chunks.map(({ chunk }) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk))
    hooks._write(Buffer.concat(buffers), 'buffer', callback)
  }
}
