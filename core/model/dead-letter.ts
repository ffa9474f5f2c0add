// Dead-lettering: a message rejected without requeue, expired, or dropped at a length limit is
// republished to the queue's x-dead-letter-exchange, with the x-death history RabbitMQ writes:
// one table per (queue, reason), most recent first, with a count (a repeat keeps the first's time).
// The expiration property moves into x-death as original-expiration, so the copy does not expire
// again for the same reason.
// The copy is routed as RabbitMQ routes it: by the message's routing keys (its routing key and extra
// keys, AMQP's CC and BCC), or, when the queue has x-dead-letter-routing-key, by that key alone,
// which then is the copy's only routing key (a later dead-lettering routes by it) and takes the CC
// header away. A death's routing-keys list the routing key and the shown (CC) keys, never BCC.
import { Message, type Arguments, type MessageProperties } from './message.ts'
import type { Queue } from './queue.ts'

export type DeathReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit'

type Table = Record<string, unknown>

/** The copy to route at the queue's dead-letter exchange, by its routingKey and extraRoutingKeys. */
export function deadLetteredCopy(message: Message, queue: Queue, reason: DeathReason, nowMs: number): Message {
  const deadLetterRoutingKey = queue.policy.deadLetterRoutingKey
  const headers: Record<string, unknown> = { ...(message.properties.headers ?? {}) }
  const deaths = Array.isArray(headers['x-death']) ? (headers['x-death'] as unknown[]).filter(isTable) : []
  const i = deaths.findIndex(d => d.queue === queue.name && d.reason === reason)
  let death: Table
  if (i >= 0) {
    const previous = deaths.splice(i, 1)[0] as Table
    // As RabbitMQ: only the count moves; time (and exchange, routing-keys) stay the first death's.
    death = { ...previous, count: (typeof previous.count === 'number' ? previous.count : 1) + 1 }
  } else {
    death = {
      count: 1,
      reason,
      queue: queue.name,
      time: { '!': 'timestamp', value: Math.floor(nowMs / 1000) },
      exchange: message.exchange,
      'routing-keys': [message.routingKey, ...(message.extraRoutingKeys?.shown ?? [])]
    }
    if (message.properties.expiration !== undefined) death['original-expiration'] = message.properties.expiration
  }
  headers['x-death'] = [death, ...deaths]
  if (headers['x-first-death-reason'] === undefined) {
    headers['x-first-death-reason'] = reason
    headers['x-first-death-queue'] = queue.name
    headers['x-first-death-exchange'] = message.exchange
  }
  headers['x-last-death-reason'] = reason
  headers['x-last-death-queue'] = queue.name
  headers['x-last-death-exchange'] = message.exchange
  if (deadLetterRoutingKey !== undefined) delete headers.CC
  const { expiration: _dropped, ...rest } = message.properties
  const properties: MessageProperties = { ...rest, headers: headers as Arguments }
  const exchange = queue.policy.deadLetterExchange ?? ''
  // Re-encoded by the adapter that delivers it: the headers changed.
  if (deadLetterRoutingKey !== undefined) return new Message(exchange, deadLetterRoutingKey, properties, message.body, nowMs, null)
  return new Message(exchange, message.routingKey, properties, message.body, nowMs, null, message.extraRoutingKeys)
}

/**
 * Whether routing a dead-lettered copy to targetQueue closes a cycle that must be cut, as RabbitMQ
 * 3.13 decides it (mc:is_death_cycle): the copy's deaths, most recent first, up to and including its
 * latest death in targetQueue, must all be automatic (expired, maxlen, delivery_limit). A client's
 * reject in that stretch lets it through; one before the message was last in targetQueue does not.
 */
export function isDeathCycle(deaths: readonly Table[], targetQueue: string): boolean {
  const last = deaths.findIndex(d => d.queue === targetQueue)
  if (last < 0) return false
  return deaths.slice(0, last + 1).every(d => d.reason !== 'rejected')
}

function isTable(v: unknown): v is Table {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)
}
