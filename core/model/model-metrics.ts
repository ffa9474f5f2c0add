// Gauges of the queue model per vhost and queue, read on scrape: one walk over the queues per scrape
// (O(queues)), nothing on the hot path. Queues beyond metrics.queueLabelsMax share queue="_other".
import type { Metrics, Emit } from '../metrics.ts'
import type { Broker } from './broker.ts'
import type { Queue } from './queue.ts'
import { OTHER_QUEUES, QueueLabelSlots, queueKey } from './queue-label-slots.ts'
import { oncePerTurn } from '../util/once-per-turn.ts'

interface QueueRow {
  vhost: string
  queue: string
  ready: number
  unacked: number
  consumers: number
  bytes: number
  redelivering: number
}

const QUEUE_LABELS = ['vhost', 'queue'] as const

export function registerModelMetrics(broker: Broker, metrics: Metrics, queueLabelsMax: number): void {
  const slots = new QueueLabelSlots(queueLabelsMax)
  const rows = oncePerTurn(() => queueRows(broker, slots))
  metrics.gaugeFamily('wharf_queues', 'Queues per vhost', ['vhost'], emit => {
    for (const v of broker.vhosts.values()) emit({ vhost: v.name }, v.queues.size)
  })
  const family = (name: string, help: string, pick: (r: QueueRow) => number): void => {
    metrics.gaugeFamily(name, help, QUEUE_LABELS, (emit: Emit) => {
      for (const r of rows()) emit({ vhost: r.vhost, queue: r.queue }, pick(r))
    })
  }
  family('wharf_queue_messages_ready', 'Messages ready for delivery (a stream: records retained)', r => r.ready)
  family('wharf_queue_messages_unacked', 'Messages delivered and not yet acknowledged', r => r.unacked)
  family('wharf_queue_messages_ready_bytes', 'Body bytes of the ready messages held locally (a stream: its local segments)', r => r.bytes)
  family('wharf_queue_consumers', 'Consumers attached', r => r.consumers)
  family('wharf_queue_messages_redelivering', 'Messages in the queue that were delivered more than once', r => r.redelivering)
}

/** One row per labelled queue, plus one `_other` row per vhost for the rest. */
function queueRows(broker: Broker, slots: QueueLabelSlots): QueueRow[] {
  const queues: Queue[] = []
  broker.forEachQueue(q => queues.push(q))
  const own = slots.assign(queues.map(q => queueKey(q.vhost, q.name)))
  const rows: QueueRow[] = []
  const other = new Map<string, QueueRow>()
  for (const q of queues) {
    const labelled = own.get(queueKey(q.vhost, q.name)) === true
    let row: QueueRow | undefined = labelled ? undefined : other.get(q.vhost)
    if (row === undefined) {
      row = { vhost: q.vhost, queue: labelled ? q.name : OTHER_QUEUES, ready: 0, unacked: 0, consumers: 0, bytes: 0, redelivering: 0 }
      if (labelled) rows.push(row)
      else other.set(q.vhost, row)
    }
    row.ready += q.messageCount
    row.unacked += q.unackedCount
    row.consumers += q.consumerCount
    row.bytes += q.messageBytes
    row.redelivering += q.redelivering.size
  }
  return [...rows, ...other.values()]
}
