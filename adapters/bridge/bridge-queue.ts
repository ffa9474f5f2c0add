// A bridge's store: the durable core queue bridge/<name> in the MQTT vhost, bound on the MQTT
// exchange with the `out` filters, so that every publish matching them, MQTT or AMQP, is routed
// into it once by core and committed before its publisher is acknowledged (DESIGN §3). The
// bindings follow the configuration: a filter no longer configured is unbound at start.
import type { Vhost } from '../../core/model/vhost.ts'
import { ClassicQueue } from '../../core/model/classic-queue.ts'
import { filterToBindingKey } from '../mqtt/topic-grammar.ts'

export const BRIDGE_QUEUE_PREFIX = 'bridge/'
export const bridgeQueueName = (bridgeName: string): string => BRIDGE_QUEUE_PREFIX + bridgeName

/** The bridge's reserved state in core is owned by no connection. */
export const BRIDGE_OWNER = {}

export async function declareBridgeQueue(vhost: Vhost, exchange: string, bridgeName: string, outFilters: readonly string[]): Promise<ClassicQueue> {
  const name = bridgeQueueName(bridgeName)
  const q = await vhost.declareQueue({ name, durable: true, exclusive: false, autoDelete: false, arguments: {} }, BRIDGE_OWNER, false, true)
  if (!(q instanceof ClassicQueue)) throw new Error(`bridge ${bridgeName}: queue '${name}' is a ${q.type.name} queue, not a classic one`)
  const keys = new Set(outFilters.map(filterToBindingKey))
  for (const b of [...q.inbound]) {
    if (b.source.name === exchange && !keys.has(b.routingKey)) await vhost.unbindQueue(name, exchange, b.routingKey, b.arguments, BRIDGE_OWNER)
  }
  for (const key of keys) await vhost.bindQueue(name, exchange, key, {}, BRIDGE_OWNER)
  return q
}

/**
 * Bridge queues of bridges no longer configured: unbound from the MQTT exchange, so they stop
 * growing, and kept with their messages (an operator deletes them); returns their names and sizes.
 */
export async function retireStaleBridgeQueues(
  vhost: Vhost,
  exchange: string,
  configured: readonly string[]
): Promise<Array<{ queue: string; messages: number }>> {
  const keep = new Set(configured.map(bridgeQueueName))
  const retired: Array<{ queue: string; messages: number }> = []
  for (const q of [...vhost.queues.values()]) {
    if (!q.name.startsWith(BRIDGE_QUEUE_PREFIX) || keep.has(q.name)) continue
    for (const b of [...q.inbound]) {
      if (b.source.name === exchange) await vhost.unbindQueue(q.name, exchange, b.routingKey, b.arguments, BRIDGE_OWNER)
    }
    retired.push({ queue: q.name, messages: q.messageCount })
  }
  return retired
}
