// /api/diagnose: for every queue with a backlog or a growing lag, the causes found in live state with
// their numbers and a suggestion, and the causes that hold for the whole node.
import type { Broker } from '../model/broker.ts'
import type { Queue } from '../model/queue.ts'
import { queueKey } from '../model/queue-label-slots.ts'
import { StreamQueue } from '../streams/stream-queue.ts'
import type { BridgeFacts } from './bridge-facts.ts'
import type { Finding } from './finding.ts'
import type { LagSampler, LagTrend } from './lag-sampler.ts'
import { backlogOf } from './queue-backlog.ts'
import { queueFindings } from './queue-findings.ts'
import { nodeFindings, type NodeConditions } from './node-findings.ts'

export interface QueueDiagnosis {
  readonly vhost: string
  readonly queue: string
  readonly type: 'classic' | 'stream'
  /** Ready messages (a stream: its furthest-behind consumer's lag). */
  readonly backlog: number
  readonly unacked: number
  readonly consumers: number
  readonly trend: LagTrend | null
  readonly findings: Finding[]
}

export interface Diagnosis {
  readonly at: string
  /** True when no queue lags and nothing holds the node back. */
  readonly healthy: boolean
  readonly node: Finding[]
  readonly queues: QueueDiagnosis[]
}

export interface DiagnoseOptions {
  readonly redeliveriesMin: number
}

export function diagnose(broker: Broker, sampler: LagSampler<Queue>, node: NodeConditions, opts: DiagnoseOptions): Diagnosis {
  const queues: QueueDiagnosis[] = []
  const bridgeOf = new Map(node.bridges.map(b => [queueKey(b.vhost, b.queue), b]))
  for (const v of broker.vhosts.values()) {
    for (const q of v.queues.values()) {
      const d = diagnoseQueue(q, sampler, node.nowMs, opts, bridgeOf.get(queueKey(q.vhost, q.name)) ?? null)
      if (d !== null) queues.push(d)
    }
  }
  queues.sort((a, b) => b.backlog - a.backlog)
  const nodeLevel = nodeFindings(node)
  return { at: new Date(node.nowMs).toISOString(), healthy: queues.length === 0 && nodeLevel.length === 0, node: nodeLevel, queues }
}

function diagnoseQueue(q: Queue, sampler: LagSampler<Queue>, nowMs: number, opts: DiagnoseOptions, bridge: BridgeFacts | null): QueueDiagnosis | null {
  const backlog = backlogOf(q)
  const trend = sampler.trend(q, { atMs: nowMs, backlog })
  const growing = trend !== null && trend.growthPerSecond > 0
  if (backlog === 0 && !growing && q.redelivering.size === 0) return null
  const findings = queueFindings({ queue: q, backlog, trend, redeliveriesMin: opts.redeliveriesMin, bridge })
  if (backlog === 0 && findings.length === 0) return null
  return {
    vhost: q.vhost,
    queue: q.name,
    type: q instanceof StreamQueue ? 'stream' : 'classic',
    backlog,
    unacked: q.unackedCount,
    consumers: q.consumerCount,
    trend,
    findings
  }
}
