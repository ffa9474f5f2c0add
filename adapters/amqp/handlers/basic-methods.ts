// basic class (60): qos, consume, cancel, publish, get, ack, reject, nack, recover.
import { Methods } from '../codec/amqp-defs.ts'
import { NOT_ALLOWED, NOT_IMPLEMENTED, PRECONDITION_FAILED } from '../codec/reply-codes.ts'
import { AmqpException } from '../amqp-errors.ts'
import { AmqpConsumer } from '../amqp-consumer.ts'
import type { AmqpChannel } from '../channel.ts'
import { publish } from './publish.ts'
import { queueName } from './queue-methods.ts'
import { onChannel, type RouteEntry } from './route.ts'
import type { Arguments } from '../../../core/model/message.ts'
import { describeQueue } from '../../../core/model/names.ts'
import { authorizeQueueRead } from '../access.ts'

/** In tx mode settlements wait for tx.commit; tags are checked now, so a bad one fails at once. */
function settleOrHold(ch: AmqpChannel, deliveryTag: number, multiple: boolean, methodId: number, apply: () => void): void {
  if (ch.tx === undefined) {
    apply()
    return
  }
  // As RabbitMQ, the tags are taken at the ack: one a held ack named is unknown to the next (406 now,
  // not at commit).
  const held = ch.tx.heldTags
  if (!(multiple && deliveryTag === 0) && (!ch.unacked.has(deliveryTag) || held.has(deliveryTag)))
    throw new AmqpException(PRECONDITION_FAILED, `unknown delivery tag ${deliveryTag}`, methodId)
  if (!multiple) held.add(deliveryTag)
  else
    for (const tag of ch.unacked.keys()) {
      if (deliveryTag !== 0 && tag > deliveryTag) break
      held.add(tag)
    }
  ch.tx.settlements.push(apply)
}

export const basicMethods: readonly RouteEntry[] = [
  onChannel(Methods.BasicQos, (ch, f) => {
    if (f.prefetchSize !== 0) throw new AmqpException(NOT_IMPLEMENTED, `prefetch_size!=0 (${f.prefetchSize})`, Methods.BasicQos)
    // As RabbitMQ: global=false is per consumer (for consumers created after), global=true per channel.
    if (f.global) ch.channelPrefetch = f.prefetchCount
    else ch.consumerPrefetch = f.prefetchCount
    ch.send(Methods.BasicQosOk, {})
    if (f.global) ch.redispatchAll()
  }),

  onChannel(Methods.BasicConsume, (ch, f) => {
    const vhost = ch.conn.vhostOrThrow()
    const queue = queueName(ch, f.queue, Methods.BasicConsume)
    authorizeQueueRead(ch, queue)
    const tag = f.consumerTag === '' ? ch.newConsumerTag() : f.consumerTag
    if (ch.consumers.has(tag)) throw new AmqpException(NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`, Methods.BasicConsume)
    // As RabbitMQ: a stream consumer reads within a credit window, so it needs a consumer prefetch.
    if (vhost.queue(queue, ch.conn).type.consumersNeedCreditWindow && ch.consumerPrefetch === 0) {
      throw new AmqpException(PRECONDITION_FAILED, `consumer prefetch count is not set for ${describeQueue(vhost.name, queue)}`, Methods.BasicConsume)
    }
    const consumer = new AmqpConsumer(tag, f.noAck, f.exclusive, ch.consumerPrefetch, ch)
    consumer.queue = vhost.consume(queue, consumer, ch.conn, f.arguments as Arguments)
    ch.consumers.set(tag, consumer)
    if (!f.nowait) ch.send(Methods.BasicConsumeOk, { consumerTag: tag })
    consumer.queue.dispatch() // after consume-ok: a client must know the tag before deliveries name it
  }),

  onChannel(Methods.BasicCancel, (ch, f) => {
    const consumer = ch.consumers.get(f.consumerTag)
    if (consumer !== undefined) ch.cancelConsumer(consumer) // an unknown tag is not an error (RabbitMQ)
    if (!f.nowait) ch.send(Methods.BasicCancelOk, { consumerTag: f.consumerTag })
  }),

  onChannel(Methods.BasicPublish, (ch, f, content) => {
    if (content === undefined) throw new AmqpException(PRECONDITION_FAILED, 'basic.publish without content', Methods.BasicPublish)
    publish(ch, f, content)
  }),

  onChannel(Methods.BasicGet, (ch, f) => {
    const name = queueName(ch, f.queue, Methods.BasicGet)
    authorizeQueueRead(ch, name)
    const { queue, entry } = ch.conn.vhostOrThrow().get(name, f.noAck, ch.conn)
    if (entry === undefined) {
      ch.send(Methods.BasicGetEmpty, {})
      return
    }
    ch.deliverGet(entry, f.noAck, entry.redelivered, queue.messageCount)
  }),

  onChannel(Methods.BasicAck, (ch, f) => {
    settleOrHold(ch, f.deliveryTag, f.multiple, Methods.BasicAck, () => ch.settle(ch.takeUnacked(f.deliveryTag, f.multiple, Methods.BasicAck), 'acked'))
  }),

  onChannel(Methods.BasicReject, (ch, f) => {
    settleOrHold(ch, f.deliveryTag, false, Methods.BasicReject, () => {
      const taken = ch.takeUnacked(f.deliveryTag, false, Methods.BasicReject)
      if (f.requeue) ch.requeue(taken)
      else ch.settle(taken, 'rejected')
    })
  }),

  onChannel(Methods.BasicNack, (ch, f) => {
    settleOrHold(ch, f.deliveryTag, f.multiple, Methods.BasicNack, () => {
      const taken = ch.takeUnacked(f.deliveryTag, f.multiple, Methods.BasicNack)
      if (f.requeue) ch.requeue(taken)
      else ch.settle(taken, 'rejected')
    })
  }),

  onChannel(Methods.BasicRecoverAsync, (ch, f) => {
    recover(ch, f.requeue, Methods.BasicRecoverAsync)
  }),

  onChannel(Methods.BasicRecover, (ch, f) => {
    recover(ch, f.requeue, Methods.BasicRecover)
    ch.send(Methods.BasicRecoverOk, {})
  })
]

/** Every unacked delivery of the channel goes back to its queue, redelivered. */
function recover(ch: AmqpChannel, requeue: boolean, methodId: number): void {
  if (!requeue) throw new AmqpException(NOT_IMPLEMENTED, 'requeue=false', methodId)
  ch.requeue(ch.takeUnacked(0, true, methodId))
}
