// The model's objects as RabbitMQ's management API shows them (field names as in its JSON), so that
// rabbitmqadmin, dashboards and scripts written for RabbitMQ read Wharf's: queues (AMQP queues,
// streams, MQTT sessions `mqtt-session/<client id>` and shared-subscription groups `mqtt-share/...`),
// exchanges (the default one is named '' and addressed as amq.default) and bindings.
import { createHash } from 'node:crypto'
import type { Queue } from '../../core/model/queue.ts'
import { ClassicQueue } from '../../core/model/classic-queue.ts'
import type { Exchange } from '../../core/model/exchange.ts'
import type { Binding } from '../../core/model/binding.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import type { Arguments } from '../../core/model/message.ts'
import { SESSION_QUEUE_PREFIX } from '../../adapters/mqtt/topic-grammar.ts'
import type { ManagementRates } from './management-rates.ts'

export type Json = Record<string, unknown>

/** The name the HTTP API gives the default exchange in paths ('' cannot be a path segment). */
export const DEFAULT_EXCHANGE_ALIAS = 'amq.default'

export function queueType(q: Queue): string {
  if (q.name.startsWith(SESSION_QUEUE_PREFIX)) return 'mqtt-session'
  const t = q.args['x-queue-type']
  return typeof t === 'string' ? t : 'classic'
}

export function queueJson(q: Queue, node: string, rates?: ManagementRates): Json {
  const type = queueType(q)
  // A stream keeps what its consumers read: its unacknowledged records are among those retained.
  const unacked = q.unackedCount
  const ready = type === 'stream' ? Math.max(0, q.messageCount - unacked) : q.messageCount
  return {
    name: q.name,
    vhost: q.vhost,
    durable: q.durable,
    auto_delete: q.autoDelete,
    exclusive: q.exclusiveOwner !== null,
    arguments: plainArguments(q.args),
    type,
    node,
    // RabbitMQ's queue states: 'flow' while the queue holds its publishers back (core/model/queue-flow.ts).
    state: q.inFlow ? 'flow' : 'running',
    policy: null,
    messages: ready + unacked,
    messages_ready: ready,
    messages_unacknowledged: unacked,
    // A classic queue past storage.queueMemoryMessagesMax keeps the rest of its ready messages in the
    // store only; handed-out ones are all in memory (a stream reads from the store: none given).
    ...(q instanceof ClassicQueue ? { messages_ready_ram: q.messagesInMemory, messages_ram: q.messagesInMemory + unacked } : {}),
    consumers: q.consumerCount,
    ...(rates === undefined ? {} : { message_stats: rates.queue.stats(q, q) })
  }
}

export function exchangeJson(x: Exchange): Json {
  return {
    name: x.name,
    vhost: x.vhost,
    type: x.type.name,
    durable: x.durable,
    auto_delete: x.autoDelete,
    internal: x.internal,
    arguments: plainArguments(x.args),
    policy: null,
    user_who_performed_action: 'rmq-internal'
  }
}

export function bindingJson(b: Binding): Json {
  return {
    source: b.source.name,
    vhost: b.source.vhost,
    destination: b.destination.name,
    destination_type: b.destination.kind,
    routing_key: b.routingKey,
    arguments: plainArguments(b.arguments),
    properties_key: propertiesKey(b.routingKey, b.arguments)
  }
}

/** RabbitMQ lists the default exchange's implicit binding to every queue (routing key = queue name). */
export function defaultBindingJson(q: Queue): Json {
  return {
    source: '',
    vhost: q.vhost,
    destination: q.name,
    destination_type: 'queue',
    routing_key: q.name,
    arguments: {},
    properties_key: propertiesKey(q.name, {})
  }
}

/** Every binding of a vhost, the implicit default-exchange ones first, as RabbitMQ lists them; sinks are not bindings to show. */
export function vhostBindings(v: Vhost): Json[] {
  const out: Json[] = []
  for (const q of v.queues.values()) out.push(defaultBindingJson(q))
  for (const x of v.exchanges.values()) {
    for (const b of x.bindings.values()) if (b.destination.kind !== 'sink') out.push(bindingJson(b))
  }
  return out
}

/**
 * The binding's name in paths (DELETE /api/bindings/.../{props}): the routing key ('~' when empty)
 * plus '~' and a hash of the arguments when there are any, as RabbitMQ forms it.
 */
export function propertiesKey(routingKey: string, args: Arguments): string {
  const key = routingKey === '' && Object.keys(args).length === 0 ? '~' : quoteTilde(routingKey)
  if (Object.keys(args).length === 0) return key
  const hash = createHash('sha256')
    .update(JSON.stringify(sortedPlain(args)))
    .digest('base64url')
    .slice(0, 22)
  return `${key}~${hash}`
}

function quoteTilde(s: string): string {
  return s.replace(/~/g, '%7E')
}

/** Field-table values as JSON shows them: text as strings, nested tables and lists as they are. */
export function plainArguments(args: Arguments): Json {
  const out: Json = {}
  for (const [k, v] of Object.entries(args)) out[k] = plainValue(v)
  return out
}

export function plainValue(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('utf8')
  if (typeof v === 'bigint') return Number(v)
  if (Array.isArray(v)) return v.map(plainValue)
  if (v instanceof Date) return Math.floor(v.getTime() / 1000)
  if (v !== null && typeof v === 'object') {
    const o = v as Json
    // A typed field-table value ({ type, value }) shows its value.
    if ('type' in o && 'value' in o && Object.keys(o).length === 2) return plainValue(o.value)
    return plainArguments(o)
  }
  return v
}

function sortedPlain(args: Arguments): unknown {
  const plain = plainArguments(args)
  return Object.keys(plain)
    .sort()
    .map(k => [k, plain[k]])
}
