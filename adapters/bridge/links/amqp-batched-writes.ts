// amqplib queues each channel's frames and its muxer copies them to the socket in a later turn of
// the event loop (setImmediate), one socket.write per message: with TCP_NODELAY that is a syscall
// and a TCP segment per message, and the remote reads and parses them one by one. RabbitMQ spends
// measurably more CPU per message so, and on a machine it shares with the edge that CPU is the
// bridge's throughput (bench bridge-uplink). Corking the socket around each pass of the muxer sends
// what one pass copies as one write of one buffer, as a tuned client does (the bench's publisher
// does the same). amqplib 2.x internals: without them the connection is left as it is.
import type { Socket } from 'node:net'
import type { ChannelModel } from 'amqplib'

type WriteCallback = (err?: Error | null) => void

interface MuxerInternals {
  _readIncoming?: () => void
}

interface SocketWriteHooks {
  _write(chunk: Buffer, encoding: string, callback: WriteCallback): void
  _writev?(chunks: Array<{ chunk: Buffer | string }>, callback: WriteCallback): void
}

/** Returns whether the muxer was found and wrapped. */
export function batchMuxerWrites(model: ChannelModel): boolean {
  const connection = model.connection as unknown as { muxer?: MuxerInternals; stream?: Socket }
  const muxer = connection.muxer
  const socket = connection.stream
  const readIncoming = muxer?._readIncoming
  if (muxer === undefined || socket === undefined || typeof readIncoming !== 'function') return false
  const hooks = socket as unknown as SocketWriteHooks
  // The corked writes leave as one buffer: a writev of hundreds of small buffers costs more.
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
  return true
}
