import type { Socket } from 'node:net'
import amqp, { type ChannelModel } from 'amqplib'
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
  batchMuxWrites(model)
  return model
}

type WriteCallback = (err?: Error | null) => void

/**
 * amqplib queues each channel's frames and its muxer copies them to the socket in a later
 * turn, one socket.write per message or ack: with TCP_NODELAY that is a syscall and a TCP
 * segment each, which the broker then reads one by one. Corking the socket around each pass
 * of the muxer sends everything it copies in one pass as one write of one buffer (a tuned
 * client does the same). amqplib 2.3.1 internals; without them the connection is left as is.
 */
function batchMuxWrites(model: ChannelModel): void {
  const connection = model.connection as unknown as { muxer?: { _readIncoming?: () => void } }
  const muxer = connection.muxer
  const readIncoming = muxer?._readIncoming
  if (muxer === undefined || typeof readIncoming !== 'function') return
  const socket = amqpSocket(model)
  const hooks = socket as unknown as {
    _write(chunk: Buffer, encoding: string, callback: WriteCallback): void
    _writev(chunks: Array<{ chunk: Buffer | string }>, callback: WriteCallback): void
  }
  hooks._writev = (chunks, callback) => {
    const buffers = chunks.map(({ chunk }) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk))
    hooks._write(Buffer.concat(buffers), 'buffer', callback)
  }
  muxer._readIncoming = () => {
    socket.cork()
    try {
      readIncoming.call(muxer)
    } finally {
      socket.uncork()
    }
  }
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
