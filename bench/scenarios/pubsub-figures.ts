import type { Figure, ScenarioOutcome } from './scenario.ts'
import { deliveryRate, publishRate, ratePerS, sum, type PubSubResult } from './pubsub-run.ts'

/** Figures and checks shared by the fan-in and fan-out scenarios. */
export function pubSubOutcome(result: PubSubResult, qos: 0 | 1, headlineLabel: string): ScenarioOutcome {
  const sent = sum(result.publishers, p => p.sent)
  const lost = sum(result.clients, c => c.lost)
  const duplicates = sum(result.clients, c => c.duplicates)
  const unexpected = sum(result.clients, c => c.unexpected)
  const slowest = Math.min(...result.clients.map(c => ratePerS(c.received, c.firstMs, c.lastMs)))
  const figures: Figure[] = [
    { key: 'deliveryRate', label: headlineLabel, value: deliveryRate(result.clients), unit: 'msg/s', better: 'higher', headline: true },
    {
      key: 'publishRate',
      label: qos === 1 ? 'publish (PUBACK/s)' : 'publish (msg/s)',
      value: publishRate(result.publishers),
      unit: 'msg/s',
      better: 'higher'
    },
    { key: 'sent', label: 'sent', value: sent, unit: 'count', better: 'none' },
    { key: 'delivered', label: 'delivered', value: sum(result.clients, c => c.received), unit: 'count', better: 'none' },
    { key: 'lost', label: 'lost', value: lost, unit: 'count', better: 'lower' },
    { key: 'duplicates', label: 'duplicates', value: duplicates, unit: 'count', better: 'lower' }
  ]
  if (result.clients.length > 1) {
    figures.splice(2, 0, { key: 'slowestClientRate', label: 'slowest subscriber', value: slowest, unit: 'msg/s', better: 'higher' })
  }
  const failures: string[] = []
  const notes: string[] = []
  if (qos === 1 && lost > 0) failures.push(`QoS 1: ${lost} acknowledged messages never delivered`)
  if (qos === 0 && lost > 0) notes.push(`QoS 0: ${lost} of ${sent * result.clients.length} deliveries dropped (allowed under overload)`)
  if (unexpected > 0) notes.push(`${unexpected} messages on bench/# not from this run (another publisher on the broker?)`)
  const unacked = sent - sum(result.publishers, p => p.acked)
  if (unacked > 0) failures.push(`${unacked} QoS 1 publishes never acknowledged`)
  return { figures, lost, duplicates, failures, notes }
}
