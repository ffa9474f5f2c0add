// A connection's or channel's MessageCounts as RabbitMQ's message_stats: each count with its
// <name>_details.rate, deliver_get summing deliveries and gets as RabbitMQ does. Rates come from the
// shared RateTracker, keyed by the connection or channel (forgotten once it is no longer asked for).
import type { MessageCounts } from '../../core/metering/message-counts.ts'
import type { RateTracker } from './rate-tracker.ts'
import type { Json } from './model-json.ts'

export function messageStatsJson(m: Readonly<MessageCounts>, rates: RateTracker, key: string): Json {
  const stat = (name: string, value: number): Json => rates.stat(`${key} ${name}`, name, value)
  return {
    ...stat('publish', m.publish),
    ...stat('confirm', m.confirm),
    ...stat('return_unroutable', m.returnUnroutable),
    ...stat('deliver', m.deliver),
    ...stat('deliver_no_ack', m.deliverNoAck),
    ...stat('get', m.get),
    ...stat('get_no_ack', m.getNoAck),
    ...stat('deliver_get', m.deliver + m.deliverNoAck + m.get + m.getNoAck),
    ...stat('redeliver', m.redeliver),
    ...stat('ack', m.ack)
  }
}
