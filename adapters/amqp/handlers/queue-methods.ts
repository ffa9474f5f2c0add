// queue class (50): declare, bind, unbind, purge, delete. An empty queue name means the queue
// the channel declared last (spec "current queue"), as RabbitMQ does.
import { Methods } from '../codec/amqp-defs.ts'
import { NOT_FOUND } from '../codec/reply-codes.ts'
import type { Arguments } from '../../../core/model/message.ts'
import { AmqpException } from '../amqp-errors.ts'
import type { AmqpChannel } from '../channel.ts'
import { onChannel, type RouteEntry } from './route.ts'
import { authorizeQueueBind, authorizeQueueDeclare, authorizeQueueDelete, authorizeQueueRead } from '../access.ts'
import { serverNamedQueue } from '../../../core/model/names.ts'

export function queueName(ch: AmqpChannel, name: string, methodId: number): string {
  if (name !== '') return name
  if (ch.mostRecentQueue === '') throw new AmqpException(NOT_FOUND, 'no previously declared queue', methodId)
  return ch.mostRecentQueue
}

export const queueMethods: readonly RouteEntry[] = [
  onChannel(Methods.QueueDeclare, async (ch, f) => {
    // The server names an unnamed queue here, as RabbitMQ, so configure is checked on that name.
    const serverNamed = !f.passive && f.queue === ''
    const name = f.passive ? queueName(ch, f.queue, Methods.QueueDeclare) : serverNamed ? serverNamedQueue() : f.queue
    if (!f.passive) authorizeQueueDeclare(ch, name, f.arguments as Arguments)
    const q = await ch.conn.vhostOrThrow().declareQueue(
      {
        name,
        durable: f.durable,
        exclusive: f.exclusive,
        autoDelete: f.autoDelete,
        arguments: f.arguments as Arguments
      },
      ch.conn,
      f.passive,
      serverNamed
    )
    ch.mostRecentQueue = q.name
    if (!f.nowait) ch.send(Methods.QueueDeclareOk, { queue: q.name, messageCount: q.messageCount, consumerCount: q.consumerCount })
  }),

  onChannel(Methods.QueueBind, async (ch, f) => {
    const queue = queueName(ch, f.queue, Methods.QueueBind)
    const routingKey = f.queue === '' && f.routingKey === '' ? queue : f.routingKey
    authorizeQueueBind(ch, queue, f.exchange, routingKey)
    await ch.conn.vhostOrThrow().bindQueue(queue, f.exchange, routingKey, f.arguments as Arguments, ch.conn)
    if (!f.nowait) ch.send(Methods.QueueBindOk, {})
  }),

  onChannel(Methods.QueueUnbind, async (ch, f) => {
    const queue = queueName(ch, f.queue, Methods.QueueUnbind)
    authorizeQueueBind(ch, queue, f.exchange, f.routingKey)
    await ch.conn.vhostOrThrow().unbindQueue(queue, f.exchange, f.routingKey, f.arguments as Arguments, ch.conn)
    ch.send(Methods.QueueUnbindOk, {})
  }),

  onChannel(Methods.QueuePurge, (ch, f) => {
    const queue = queueName(ch, f.queue, Methods.QueuePurge)
    authorizeQueueRead(ch, queue)
    const messageCount = ch.conn.vhostOrThrow().purgeQueue(queue, ch.conn)
    if (!f.nowait) ch.send(Methods.QueuePurgeOk, { messageCount })
  }),

  onChannel(Methods.QueueDelete, async (ch, f) => {
    const queue = queueName(ch, f.queue, Methods.QueueDelete)
    authorizeQueueDelete(ch, queue)
    const messageCount = await ch.conn.vhostOrThrow().deleteQueue(queue, { ifUnused: f.ifUnused, ifEmpty: f.ifEmpty }, ch.conn)
    if (!f.nowait) ch.send(Methods.QueueDeleteOk, { messageCount })
  })
]
