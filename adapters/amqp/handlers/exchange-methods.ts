// exchange class (40): declare, delete, bind, unbind (exchange-to-exchange, RabbitMQ's extension).
import { Methods } from '../codec/amqp-defs.ts'
import type { Arguments } from '../../../core/model/message.ts'
import { onChannel, type RouteEntry } from './route.ts'
import { authorizeExchangeBind, authorizeExchangeDeclare, authorizeExchangeDelete } from '../access.ts'

export const exchangeMethods: readonly RouteEntry[] = [
  onChannel(Methods.ExchangeDeclare, async (ch, f) => {
    if (!f.passive) authorizeExchangeDeclare(ch, f.exchange, f.arguments as Arguments)
    await ch.conn.vhostOrThrow().declareExchange(
      {
        name: f.exchange,
        type: f.type,
        durable: f.durable,
        autoDelete: f.autoDelete,
        internal: f.internal,
        arguments: f.arguments as Arguments
      },
      f.passive
    )
    if (!f.nowait) ch.send(Methods.ExchangeDeclareOk, {})
  }),

  onChannel(Methods.ExchangeDelete, async (ch, f) => {
    authorizeExchangeDelete(ch, f.exchange)
    await ch.conn.vhostOrThrow().deleteExchange(f.exchange, f.ifUnused)
    if (!f.nowait) ch.send(Methods.ExchangeDeleteOk, {})
  }),

  onChannel(Methods.ExchangeBind, async (ch, f) => {
    authorizeExchangeBind(ch, f.destination, f.source, f.routingKey)
    await ch.conn.vhostOrThrow().bindExchange(f.destination, f.source, f.routingKey, f.arguments as Arguments)
    if (!f.nowait) ch.send(Methods.ExchangeBindOk, {})
  }),

  onChannel(Methods.ExchangeUnbind, async (ch, f) => {
    authorizeExchangeBind(ch, f.destination, f.source, f.routingKey)
    await ch.conn.vhostOrThrow().unbindExchange(f.destination, f.source, f.routingKey, f.arguments as Arguments)
    if (!f.nowait) ch.send(Methods.ExchangeUnbindOk, {})
  })
]
