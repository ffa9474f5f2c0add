// GET /api/queues[/{vhost}[/{name}]]: every queue of the node in one list, shaped like RabbitMQ's
// management API: every model queue — AMQP's, streams, MQTT sessions (`mqtt-session/<client id>`,
// durable when the session outlives its connection) and MQTT shared-subscription groups.
import type { Broker } from '../core/model/broker.ts'
import { SESSION_QUEUE_PREFIX } from '../adapters/mqtt/topic-grammar.ts'

export interface QueueInfo {
  name: string
  vhost: string
  durable: boolean
  auto_delete: boolean
  exclusive: boolean
  type: string
  /** Ready plus unacknowledged, as RabbitMQ counts `messages`. */
  messages: number
  messages_ready: number
  messages_unacknowledged: number
  consumers: number
  arguments: Record<string, unknown>
}

export function listQueues (broker: Broker): QueueInfo[] {
  const out: QueueInfo[] = []
  for (const vhost of broker.vhosts.values()) {
    for (const q of vhost.queues.values()) {
      const type = q.name.startsWith(SESSION_QUEUE_PREFIX) ? 'mqtt-session' : typeof q.args['x-queue-type'] === 'string' ? q.args['x-queue-type'] : 'classic'
      // A stream keeps what its consumers read: its unacknowledged records are among those retained.
      const unacked = q.unackedCount
      const ready = type === 'stream' ? Math.max(0, q.messageCount - unacked) : q.messageCount
      out.push({
        name: q.name,
        vhost: q.vhost,
        durable: q.durable,
        auto_delete: q.autoDelete,
        exclusive: q.exclusiveOwner !== null,
        type,
        messages: ready + unacked,
        messages_ready: ready,
        messages_unacknowledged: unacked,
        consumers: q.consumerCount,
        arguments: plainArguments(q.args)
      })
    }
  }
  return out.sort((a, b) => a.vhost.localeCompare(b.vhost) || a.name.localeCompare(b.name))
}

/** Field-table values as JSON can show them (Buffers as text). */
function plainArguments (args: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(args)) out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : v
  return out
}
