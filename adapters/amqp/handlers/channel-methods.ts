// channel class (20) and the deprecated access class (30), which RabbitMQ still answers.
import { Methods } from '../codec/amqp-defs.ts'
import { CHANNEL_ERROR } from '../codec/reply-codes.ts'
import { AmqpException } from '../amqp-errors.ts'
import { onChannel, type RouteEntry } from './route.ts'

export const channelMethods: readonly RouteEntry[] = [
  // A channel.open on a channel that is open (channel.open on a new channel never gets here).
  onChannel(Methods.ChannelOpen, ch => {
    throw new AmqpException(CHANNEL_ERROR, `second 'channel.open' seen on channel ${ch.id}`, Methods.ChannelOpen)
  }),

  onChannel(Methods.ChannelFlow, (ch, f) => {
    ch.flowActive = f.active
    ch.send(Methods.ChannelFlowOk, { active: f.active })
    if (f.active) ch.redispatchAll()
  }),

  // The server never sends channel.flow, so a flow-ok answers nothing.
  onChannel(Methods.ChannelFlowOk, () => {}),

  onChannel(Methods.ChannelClose, ch => {
    ch.conn.channelClosedByClient(ch)
  }),

  onChannel(Methods.ChannelCloseOk, () => {}),

  onChannel(Methods.AccessRequest, ch => {
    ch.send(Methods.AccessRequestOk, { ticket: 1 })
  })
]
