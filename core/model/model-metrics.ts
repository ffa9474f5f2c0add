// Gauges of the queue model, read on scrape (O(queues) per scrape, nothing on the hot path).
import type { Metrics } from '../metrics.ts'
import type { Broker } from './broker.ts'

export function registerModelMetrics (broker: Broker, metrics: Metrics): void {
  const sum = (f: (q: { messageCount: number, unackedCount: number, consumerCount: number }) => number) => (): number => {
    let n = 0
    for (const v of broker.vhosts.values()) for (const q of v.queues.values()) n += f(q)
    return n
  }
  metrics.gauge('wharf_queues', 'Queues in all vhosts', () => { let n = 0; for (const v of broker.vhosts.values()) n += v.queues.size; return n })
  metrics.gauge('wharf_queue_messages_ready', 'Messages ready for delivery, all queues', sum(q => q.messageCount))
  metrics.gauge('wharf_queue_messages_unacked', 'Messages delivered and not yet acknowledged, all queues', sum(q => q.unackedCount))
  metrics.gauge('wharf_queue_consumers', 'Consumers, all queues', sum(q => q.consumerCount))
}
