// basic.publish as a list of named steps: check, build the core message, route it once through
// core, return it if mandatory and unroutable, confirm it once it is safe.
import { Message, type MessageProperties } from '../../../core/model/message.ts'
import type { PublishResult, Vhost } from '../../../core/model/vhost.ts'
import { BASIC_CLASS_ID, Methods, decodeProperties, type BasicPublish } from '../codec/amqp-defs.ts'
import { NOT_IMPLEMENTED, NO_ROUTE, PRECONDITION_FAILED, formatReplyText } from '../codec/reply-codes.ts'
import { AmqpException } from '../amqp-errors.ts'
import type { AmqpChannel } from '../channel.ts'
import type { Content } from '../content-assembler.ts'
import { authorizePublish } from '../access.ts'
import { senderSelected } from '../sender-selected.ts'

export function publish(ch: AmqpChannel, f: BasicPublish, content: Content): void {
  const vhost = ch.conn.vhostOrThrow()
  const receivedMs = ch.conn.clock.monotonicMs()
  authorizePublish(ch, f.exchange, f.routingKey)
  const message = toCoreMessage(ch, f, content)
  ch.conn.counters.published.inc()
  ch.conn.usage.messagesIn++
  ch.conn.usage.bytesIn += content.body.length
  ch.messages.publish++
  ch.conn.messages.publish++
  if (ch.tx !== undefined) {
    vhost.exchange(f.exchange) // a missing exchange fails now, not at commit
    ch.tx.publishes.push({ exchange: f.exchange, message, mandatory: f.mandatory })
    return
  }
  const seq = ch.confirm?.next()
  const result = routeOnce(ch, vhost, f.exchange, message, f.mandatory)
  if (seq !== undefined) confirmWhenSafe(ch, seq, result, receivedMs)
}

function toCoreMessage(ch: AmqpChannel, f: BasicPublish, content: Content): Message {
  if (f.immediate) throw new AmqpException(NOT_IMPLEMENTED, 'immediate=true', Methods.BasicPublish)
  // A list publishers repeat is decoded once and shared (property-interner.ts).
  const interned = ch.conn.ctx.properties.lookup(content.properties)
  const decoded = interned?.properties ?? (decodeProperties(BASIC_CLASS_ID, content.properties) as MessageProperties)
  // (An interned list's headers hold numbers and booleans alone, so CC or BCC there is not a routing key list.)
  const selected = senderSelected(decoded)
  const properties = selected?.properties ?? decoded
  const user = ch.conn.user?.username
  // As RabbitMQ: a user-id property must name the authenticated user.
  if (properties.userId !== undefined && properties.userId !== user) {
    throw new AmqpException(
      PRECONDITION_FAILED,
      `user_id property set to '${properties.userId}' but authenticated user was '${user ?? ''}'`,
      Methods.BasicPublish
    )
  }
  const { names } = ch.conn.ctx
  // Without BCC the publisher's bytes no longer describe the properties: encoded again on delivery.
  const bytes = properties === decoded ? (interned?.bytes ?? content.properties) : null
  return new Message(
    names.intern(f.exchange),
    names.intern(f.routingKey),
    properties,
    content.body,
    ch.conn.clock.nowMs(),
    bytes,
    selected?.extraRoutingKeys ?? null
  )
}

/** Routes through core (exactly once) and returns an unroutable mandatory message. */
export function routeOnce(ch: AmqpChannel, vhost: Vhost, exchange: string, message: Message, mandatory: boolean): PublishResult {
  const result = vhost.publish(exchange, message)
  if (mandatory && result.routed === 0 && !result.rejected) {
    ch.conn.sendContent(
      ch.id,
      Methods.BasicReturn,
      { replyCode: NO_ROUTE, replyText: formatReplyText(NO_ROUTE, ''), exchange, routingKey: message.routingKey },
      message
    )
    ch.messages.returnUnroutable++
    ch.conn.messages.returnUnroutable++
  }
  return result
}

/** ack once every durable copy is committed; nack when a queue refused it or the store failed. */
function confirmWhenSafe(ch: AmqpChannel, seq: number, result: PublishResult, receivedMs: number): void {
  const confirm = ch.confirm
  if (confirm === undefined) return
  if (result.rejected) {
    confirm.settle(seq, 'nack')
    return
  }
  // The confirm leaves in the frame written once this turn's settlements are done (confirm-tracker.ts).
  const ack = (): void => {
    confirm.settle(seq, 'ack')
    ch.messages.confirm++
    ch.conn.messages.confirm++
    ch.conn.counters.publishAck.observe((ch.conn.clock.monotonicMs() - receivedMs) / 1000)
  }
  if (result.stored === undefined) {
    ack()
    return
  }
  result.stored.then(ack, err => {
    ch.conn.log.error('persisting a published message failed; nacked', { err })
    confirm.settle(seq, 'nack')
  })
}
