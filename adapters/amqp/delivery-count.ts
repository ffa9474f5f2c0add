// RabbitMQ's x-delivery-count header: a quorum queue's message handed out again carries how often it
// was given back before (1 on the first redelivery), which consumers use to give up on a message
// before x-delivery-limit does. Only redeliveries pay for it: the message is sent with the header
// added (its properties encoded again), the stored one is left as it is.
import { Message } from '../../core/model/message.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'

export const DELIVERY_COUNT_HEADER = 'x-delivery-count'

/** The message as this delivery of the entry sends it. */
export function asDelivered(entry: QueueEntry): Message {
  const m = entry.message
  // entry.deliveries counts this hand-out too.
  if (!entry.queue.type.countsDeliveries || entry.deliveries <= 1) return m
  const properties = { ...m.properties, headers: { ...(m.properties.headers ?? {}), [DELIVERY_COUNT_HEADER]: entry.deliveries - 1 } }
  return new Message(m.exchange, m.routingKey, properties, m.body, m.publishedAtMs, null)
}
