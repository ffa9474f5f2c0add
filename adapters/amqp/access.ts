// AMQP 0-9-1 methods on the permission model, RabbitMQ's table (docs: access-control, "How Permissions
// Work"). Passive declares need nothing; the default exchange is checked as 'amq.default'; a binding
// to or a publish through a topic exchange also needs the topic permission on its key (read, write).
//
//   exchange.declare      configure exchange; with alternate-exchange: write AE, read exchange
//   exchange.delete       configure exchange
//   exchange.(un)bind     write destination, read source (+ topic read on the key)
//   queue.declare         configure queue; with x-dead-letter-exchange: write DLX, read queue
//   queue.delete          configure queue
//   queue.(un)bind        write queue, read exchange (+ topic read on the key)
//   queue.purge           read queue
//   basic.publish         write exchange (+ topic write on the routing key)
//   basic.consume / get   read queue
import type { VhostAccess } from '../../core/auth/vhost-access.ts'
import type { Arguments } from '../../core/model/message.ts'
import type { AmqpChannel } from './channel.ts'

export function authorizeExchangeDeclare(ch: AmqpChannel, exchange: string, args: Arguments): void {
  const a = accessOf(ch)
  a.check('configure', 'exchange', exchange)
  const ae = args['alternate-exchange']
  if (typeof ae === 'string') {
    a.check('write', 'exchange', ae)
    a.check('read', 'exchange', exchange)
  }
}

export function authorizeExchangeDelete(ch: AmqpChannel, exchange: string): void {
  accessOf(ch).check('configure', 'exchange', exchange)
}

export function authorizeExchangeBind(ch: AmqpChannel, destination: string, source: string, routingKey: string): void {
  const a = accessOf(ch)
  a.check('write', 'exchange', destination)
  a.check('read', 'exchange', source)
  checkTopic(ch, a, 'read', source, routingKey)
}

export function authorizeQueueDeclare(ch: AmqpChannel, queue: string, args: Arguments): void {
  const a = accessOf(ch)
  a.check('configure', 'queue', queue)
  const dlx = args['x-dead-letter-exchange']
  if (typeof dlx === 'string') {
    a.check('write', 'exchange', dlx)
    a.check('read', 'queue', queue)
  }
}

export function authorizeQueueDelete(ch: AmqpChannel, queue: string): void {
  accessOf(ch).check('configure', 'queue', queue)
}

export function authorizeQueueBind(ch: AmqpChannel, queue: string, exchange: string, routingKey: string): void {
  const a = accessOf(ch)
  a.check('write', 'queue', queue)
  a.check('read', 'exchange', exchange)
  checkTopic(ch, a, 'read', exchange, routingKey)
}

/** queue.purge, basic.consume and basic.get. */
export function authorizeQueueRead(ch: AmqpChannel, queue: string): void {
  accessOf(ch).check('read', 'queue', queue)
}

export function authorizePublish(ch: AmqpChannel, exchange: string, routingKey: string): void {
  const a = accessOf(ch)
  a.check('write', 'exchange', exchange)
  checkTopic(ch, a, 'write', exchange, routingKey)
}

/** A missing exchange is left to the operation, which answers 404. */
function checkTopic(ch: AmqpChannel, a: VhostAccess, access: 'read' | 'write', exchange: string, key: string): void {
  if (ch.conn.vhost?.exchangeNamed(exchange)?.type.name === 'topic') a.checkTopic(access, exchange, key)
}

function accessOf(ch: AmqpChannel): VhostAccess {
  const a = ch.conn.access
  // Channels open only after connection.open, which sets it.
  if (a === undefined) throw new Error('amqp: a channel method before connection.open set the access')
  return a
}
