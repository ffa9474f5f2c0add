import type { Socket } from 'node:net'
import amqp, { type ChannelModel } from 'amqplib'
import { batchMuxerWrites } from '../../adapters/bridge/links/amqp-batched-writes.ts'
import { sendToParent } from './worker-ipc.ts'

const CONNECT_TIMEOUT_MS = 10_000
const CLOSE_TIMEOUT_MS = 5000

/**
 * One amqplib connection (promise API) with TCP_NODELAY, named for the broker's connection
 * list. A connection or channel error is reported to the parent, which fails the run.
 */
export async function connectAmqp(url: string, name: string): Promise<ChannelModel> {
  let model: ChannelModel
  try {
    model = await amqp.connect(url, { noDelay: true, timeout: CONNECT_TIMEOUT_MS, clientProperties: { connection_name: name } })
  } catch (err) {
    throw new Error(`${name}: connect ${url}: ${err instanceof Error ? err.message : String(err)}`)
  }
  model.on('error', (err: Error) => void sendToParent({ type: 'error', message: `${name}: connection error: ${err.message}` }))
  // One write per pass of amqplib's muxer, as the bridge's own link does (a tuned client).
  batchMuxerWrites(model)
  return model
}

/** Reports a channel closed by the broker (amqplib emits 'error' on the channel, then 'close'). */
export function reportChannelErrors(channel: { on(event: 'error', listener: (err: Error) => void): unknown }, name: string): void {
  channel.on('error', (err: Error) => void sendToParent({ type: 'error', message: `${name}: channel error: ${err.message}` }))
}

/** amqplib keeps the socket as `connection.stream` (not in its declarations). */
export function amqpSocket(model: ChannelModel): Socket {
  return (model.connection as unknown as { stream: Socket }).stream
}

/** connection.close; the socket is destroyed if the broker does not answer within 5 s. */
export async function closeAmqp(model: ChannelModel): Promise<void> {
  const timer = setTimeout(() => amqpSocket(model).destroy(), CLOSE_TIMEOUT_MS)
  try {
    await model.close()
  } catch {
    // already closed (by the broker or the timer)
  } finally {
    clearTimeout(timer)
  }
}
