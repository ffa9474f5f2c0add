// Every rate the management API reports, one CounterRates per kind of counted thing: message_stats
// of connections and channels (keyed by their MessageCounts), a connection's bytes (keyed by the same
// MessageCounts, the one object a connection keeps for life), a queue's counts, and the node's totals.
import type { MessageCounts } from '../../core/metering/message-counts.ts'
import type { Queue } from '../../core/model/queue.ts'
import { CounterRates } from './counter-rates.ts'
import type { MessageTotals } from './management-context.ts'

export interface ByteCounts {
  readonly recvBytes: number
  readonly sendBytes: number
}

/** The node's messages in queues, for /api/overview's queue_totals. */
export interface QueueTotals {
  readonly ready: number
  readonly unacked: number
}

export interface ManagementRates {
  readonly messageStats: CounterRates<Readonly<MessageCounts>>
  readonly connectionBytes: CounterRates<ByteCounts>
  readonly queue: CounterRates<Queue>
  readonly nodeMessageStats: CounterRates<MessageTotals>
  readonly nodeQueueTotals: CounterRates<QueueTotals>
  /** The key of the node's readings. */
  readonly nodeOwner: object
}

export function managementRates(nowMs: () => number): ManagementRates {
  return {
    messageStats: new CounterRates<Readonly<MessageCounts>>(
      [
        { name: 'publish', read: m => m.publish },
        { name: 'confirm', read: m => m.confirm },
        { name: 'return_unroutable', read: m => m.returnUnroutable },
        { name: 'deliver', read: m => m.deliver },
        { name: 'deliver_no_ack', read: m => m.deliverNoAck },
        { name: 'get', read: m => m.get },
        { name: 'get_no_ack', read: m => m.getNoAck },
        // RabbitMQ's deliver_get sums deliveries and gets of both ack modes.
        { name: 'deliver_get', read: m => m.deliver + m.deliverNoAck + m.get + m.getNoAck },
        { name: 'redeliver', read: m => m.redeliver },
        { name: 'ack', read: m => m.ack }
      ],
      nowMs
    ),
    connectionBytes: new CounterRates<ByteCounts>(
      [
        { name: 'recv_oct', read: c => c.recvBytes },
        { name: 'send_oct', read: c => c.sendBytes }
      ],
      nowMs
    ),
    queue: new CounterRates<Queue>(
      [
        { name: 'publish', read: q => q.counts.published },
        { name: 'deliver_get', read: q => q.counts.delivered },
        { name: 'ack', read: q => q.counts.acked }
      ],
      nowMs
    ),
    nodeMessageStats: new CounterRates<MessageTotals>(
      [
        { name: 'publish', read: n => n.publish },
        { name: 'deliver_get', read: n => n.deliver_get },
        { name: 'ack', read: n => n.ack }
      ],
      nowMs
    ),
    nodeQueueTotals: new CounterRates<QueueTotals>(
      [
        { name: 'messages', read: t => t.ready + t.unacked },
        { name: 'messages_ready', read: t => t.ready },
        { name: 'messages_unacknowledged', read: t => t.unacked }
      ],
      nowMs
    ),
    nodeOwner: Object.freeze({ owner: 'node' })
  }
}
