import { setTimeout as sleep } from 'node:timers/promises'
import { queueDepth } from './amqp-queue.ts'
import { countFigure, msFigure, publishFailures, onFreshQueue, runAmqpPublishers } from './amqp-run.ts'
import type { Figure, Scenario, ScenarioSettings } from './scenario.ts'

const NAME = 'amqp-publish-confirm'
/** A broker may count a message into the queue a moment after confirming it. */
const DEPTH_WAIT_MS = 5000

const grouped = new Intl.NumberFormat('en-US')

export function describeAmqpPublishers(settings: ScenarioSettings): string {
  return (
    `${settings.publishers} publishers x ${grouped.format(settings.messages)} persistent messages (or ${settings.durationS} s), ` +
    `confirm channel, at most ${settings.inflight} unconfirmed per publisher, ${settings.payloadBytes}-byte payloads, one durable queue`
  )
}

/** Waits until the queue holds at least `expected` messages, at most DEPTH_WAIT_MS; the last depth seen. */
async function settledDepth(url: string, queue: string, expected: number, signal: AbortSignal): Promise<number> {
  const deadline = Date.now() + DEPTH_WAIT_MS
  for (;;) {
    const depth = await queueDepth(url, queue, signal)
    if (depth >= expected || Date.now() >= deadline) return depth
    await sleep(200)
  }
}

/** Publishers with confirms into one durable queue that nobody consumes: confirmed msg/s, confirm latency. */
export const amqpPublishConfirm: Scenario = {
  name: NAME,
  protocol: 'amqp',
  summary: 'publishers with confirms -> 1 durable queue, persistent: confirmed msg/s, publish-to-confirm p50/p99, queue depth = confirmed',
  defaults: quick => ({
    messages: quick ? 2000 : 100_000,
    durationS: quick ? 15 : 60,
    ratePerS: 1000,
    inflight: 100,
    payloadBytes: 64,
    publishers: 4,
    consumers: 0
  }),
  fixedSettings: ['consumers'],
  describe: describeAmqpPublishers,
  timeoutMs: settings => settings.durationS * 1000 + 60_000,
  async run(context) {
    return onFreshQueue(context, NAME, async (group, queue) => {
      const done = await runAmqpPublishers(group, context, NAME, this.timeoutMs(context.settings) + 5000)
      const depth = await settledDepth(context.url, queue, done.confirmed, context.signal)
      const lost = Math.max(0, done.confirmed - depth)
      const figures: Figure[] = [
        { key: 'confirmRate', label: 'confirmed (msg/s)', value: done.confirmRate, unit: 'msg/s', better: 'higher', headline: true },
        msFigure('p50', 'confirm latency p50', done.confirmLatencyMs.p50, true),
        msFigure('p90', 'confirm latency p90', done.confirmLatencyMs.p90),
        msFigure('p99', 'confirm latency p99', done.confirmLatencyMs.p99, true),
        msFigure('max', 'confirm latency max', done.confirmLatencyMs.max),
        countFigure('sent', 'sent', done.sent),
        countFigure('confirmed', 'confirmed', done.confirmed),
        countFigure('nacked', 'nacked', done.nacked, 'lower'),
        countFigure('queueDepth', 'queue depth after', depth),
        countFigure('lost', 'lost', lost, 'lower')
      ]
      const failures = publishFailures(done, 'publish')
      if (lost > 0) failures.push(`the queue holds ${depth} messages of ${done.confirmed} confirmed: ${lost} confirmed messages missing`)
      const notes = depth > done.sent ? [`the queue holds ${depth - done.sent} more messages than were sent (another publisher?)`] : []
      return { figures, lost, duplicates: 0, failures, notes }
    })
  }
}
