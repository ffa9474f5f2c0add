import { queueDepth } from './amqp-queue.ts'
import { countFigure, PREFETCH, publishFailures, onFreshQueue, runAmqpConsumers, runAmqpPublishers } from './amqp-run.ts'
import type { Figure, Scenario } from './scenario.ts'

const NAME = 'amqp-consume-ack'
const grouped = new Intl.NumberFormat('en-US')

/**
 * A durable queue pre-filled by publishers with confirms (not timed), then drained by consumers
 * with manual acks: consumed msg/s, and every message received exactly once.
 */
export const amqpConsumeAck: Scenario = {
  name: NAME,
  protocol: 'amqp',
  summary: 'pre-filled durable queue -> consumers, manual ack, prefetch 100: consumed msg/s, every message exactly once',
  defaults: quick => ({
    messages: quick ? 2000 : 100_000,
    durationS: quick ? 15 : 60,
    ratePerS: 1000,
    inflight: 100,
    payloadBytes: 64,
    publishers: 4,
    consumers: 1
  }),
  describe: settings =>
    `${grouped.format(settings.publishers * settings.messages)} persistent ${settings.payloadBytes}-byte messages pre-filled by ` +
    `${settings.publishers} publishers with confirms (untimed, at most ${settings.durationS} s), then ${settings.consumers} ` +
    `consumer${settings.consumers === 1 ? '' : 's'}, manual ack per message, prefetch ${PREFETCH} per consumer`,
  // Filling and draining are each bounded by about --duration-s.
  timeoutMs: settings => 2 * settings.durationS * 1000 + 60_000,
  async run(context) {
    const hardTimeoutMs = this.timeoutMs(context.settings) + 5000
    return onFreshQueue(context, NAME, async (group, queue) => {
      const filled = await runAmqpPublishers(group, context, NAME, hardTimeoutMs)
      const failures = publishFailures(filled, 'pre-fill')
      const depthBefore = await queueDepth(context.url, queue, context.signal)
      const sentPerPublisher = [...filled.results].sort((a, b) => a.publisherId - b.publisherId).map(r => r.sent)
      const done = await runAmqpConsumers(group, context, NAME, sentPerPublisher, hardTimeoutMs)
      const depthAfter = await queueDepth(context.url, queue, context.signal)
      const slowest = Math.min(...done.results.map(r => (r.received === 0 ? 0 : r.received / Math.max((r.lastMs - r.firstMs) / 1000, 0.001))))
      const figures: Figure[] = [
        { key: 'consumeRate', label: 'consumed (msg/s)', value: done.consumeRate, unit: 'msg/s', better: 'higher', headline: true },
        ...(done.results.length > 1 ? [{ key: 'slowestConsumer', label: 'slowest consumer', value: slowest, unit: 'msg/s', better: 'higher' as const }] : []),
        { key: 'fillRate', label: 'pre-fill confirmed (msg/s)', value: filled.confirmRate, unit: 'msg/s', better: 'higher' },
        countFigure('sent', 'sent', filled.sent),
        countFigure('queueDepthBefore', 'queue depth before', depthBefore),
        countFigure('delivered', 'delivered', done.received),
        countFigure('lost', 'lost', done.lost, 'lower'),
        countFigure('duplicates', 'duplicates', done.duplicates, 'lower'),
        countFigure('redelivered', 'redelivered', done.redelivered, 'lower'),
        countFigure('queueDepthAfter', 'queue depth after', depthAfter, 'lower')
      ]
      if (done.lost > 0) failures.push(`${done.lost} of ${filled.sent} messages never delivered`)
      if (done.duplicates > 0) failures.push(`${done.duplicates} messages delivered more than once (${done.redelivered} deliveries flagged redelivered)`)
      const notes: string[] = []
      if (done.redelivered > 0 && done.duplicates === 0) notes.push(`${done.redelivered} deliveries flagged redelivered, none a duplicate`)
      if (depthBefore !== filled.confirmed) notes.push(`queue depth before consuming ${depthBefore}, ${filled.confirmed} confirmed`)
      if (depthAfter > 0) notes.push(`${depthAfter} messages still in the queue after the consumers stopped`)
      if (done.unexpected > 0) notes.push(`${done.unexpected} messages not from this run's publishers`)
      return { figures, lost: done.lost, duplicates: done.duplicates, failures, notes }
    })
  }
}
