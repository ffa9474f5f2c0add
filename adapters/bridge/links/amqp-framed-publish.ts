// Publishes the uplink's own basic.publish frames (amqp-publish-frames.ts) on an amqplib confirm
// channel: written to the channel's frame buffer, which amqplib's muxer sends, with the confirm
// callback in amqplib's unconfirmed list, as ConfirmChannel.publish does after encoding. amqplib
// 2.x internals: without them (another amqplib) the link publishes through amqplib as before.
import type { ChannelModel, ConfirmChannel } from 'amqplib'
import { PublishFrames } from './amqp-publish-frames.ts'

type ConfirmCallback = (err: Error | null) => void

export type FramedPublish = (routingKey: string, properties: Buffer, body: Buffer, onConfirm: ConfirmCallback) => void

interface ConnectionInternals {
  channels?: Array<{ buffer?: { write(chunk: Buffer): boolean } } | null>
  frameMax?: number
  sentSinceLastCheck?: boolean
}

interface ChannelInternals {
  ch?: number
  sendMessage?: unknown
  pushConfirmCallback?: (cb: ConfirmCallback) => void
}

export function framedPublish(model: ChannelModel, channel: ConfirmChannel, exchange: string): FramedPublish | null {
  const connection = model.connection as unknown as ConnectionInternals
  const ch = channel as unknown as ChannelInternals
  const number = ch.ch
  const buffer = number === undefined ? undefined : connection.channels?.[number]?.buffer
  const frameMax = connection.frameMax
  const pushConfirm = ch.pushConfirmCallback
  if (number === undefined || buffer === undefined || frameMax === undefined || typeof pushConfirm !== 'function') return null
  const frames = new PublishFrames(number, exchange, frameMax)
  // amqplib replaces a channel's sendMessage with one that throws once the channel is closing.
  const open = ch.sendMessage
  return (routingKey, properties, body, onConfirm) => {
    if (ch.sendMessage !== open) throw new Error('Channel closed')
    const encoded = frames.encode(routingKey, properties, body)
    for (const b of encoded) buffer.write(b)
    connection.sentSinceLastCheck = true // no heartbeat needed while publishes go out
    pushConfirm.call(ch, onConfirm)
  }
}
