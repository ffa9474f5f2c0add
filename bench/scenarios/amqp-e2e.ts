import type { AmqpE2eConfig } from '../workers/amqp-e2e.ts'
import { countFigure, msFigure, onFreshQueue, PREFETCH, publishFailures } from './amqp-run.ts'
import { ratePerS } from './pubsub-run.ts'
import type { Figure, Scenario, ScenarioSettings } from './scenario.ts'
import { AMQP_E2E } from './worker-files.ts'

const NAME = 'amqp-e2e'
/** --messages only caps the count; by default it is rate x duration. */
const NO_MESSAGE_CAP = 100_000_000
/** One unmeasured second at the same rate first (at most 2,000 messages). */
const WARMUP_S = 1
const WARMUP_MESSAGES_MAX = 2000

function messageCount(settings: ScenarioSettings): number {
  return Math.max(1, Math.min(settings.messages, Math.round(settings.ratePerS * settings.durationS)))
}

/** The publish schedule plus the same again for a broker that falls behind it. */
function sendCapMs(settings: ScenarioSettings): number {
  return 2 * (messageCount(settings) / settings.ratePerS) * 1000 + 10_000
}

/** One confirm-channel publisher at a fixed rate and one manual-ack consumer on a durable queue: end-to-end latency. */
export const amqpE2e: Scenario = {
  name: NAME,
  protocol: 'amqp',
  summary: '1 publisher with confirms at a fixed rate -> durable queue -> 1 consumer (same process), manual ack: end-to-end p50/p90/p99/max',
  defaults: quick => ({
    messages: NO_MESSAGE_CAP,
    durationS: quick ? 2 : 10,
    ratePerS: quick ? 500 : 1000,
    inflight: 100,
    payloadBytes: 64,
    publishers: 1,
    consumers: 1
  }),
  fixedSettings: ['publishers', 'consumers'],
  describe: settings =>
    `${settings.ratePerS} msg/s for ${settings.durationS} s (${messageCount(settings)} persistent messages) after ${WARMUP_S} s unmeasured, ` +
    `at most ${settings.inflight} unconfirmed, prefetch ${PREFETCH}, ${settings.payloadBytes}-byte payloads`,
  timeoutMs: settings => 2 * sendCapMs(settings) + WARMUP_S * 1000 + 45_000,
  async run(context) {
    const { settings } = context
    return onFreshQueue(context, NAME, async (group, queue) => {
      const config: AmqpE2eConfig = {
        url: context.url,
        namePrefix: `wharf-bench-${NAME}-${context.runId}`,
        queue,
        ratePerS: settings.ratePerS,
        messages: messageCount(settings),
        warmupMessages: Math.min(WARMUP_MESSAGES_MAX, Math.round(settings.ratePerS * WARMUP_S)),
        inflight: settings.inflight,
        prefetch: PREFETCH,
        payloadBytes: settings.payloadBytes,
        durationMs: sendCapMs(settings),
        settleMs: 5000,
        hardTimeoutMs: this.timeoutMs(settings) + 5000
      }
      const worker = group.spawn('e2e worker', AMQP_E2E, config)
      await worker.next('ready')
      worker.send({ type: 'start' })
      const { result } = await worker.next('result')
      await worker.stop()
      if (result.kind !== 'amqp-e2e') throw new Error(`e2e worker sent a ${result.kind} result`)
      const { latencyMs, confirmLatencyMs } = result
      const figures: Figure[] = [
        msFigure('p50', 'latency p50', latencyMs.p50, true),
        msFigure('p90', 'latency p90', latencyMs.p90),
        msFigure('p99', 'latency p99', latencyMs.p99, true),
        msFigure('max', 'latency max', latencyMs.max),
        msFigure('mean', 'latency mean', latencyMs.mean),
        msFigure('confirmP50', 'confirm latency p50', confirmLatencyMs.p50),
        msFigure('confirmP99', 'confirm latency p99', confirmLatencyMs.p99),
        {
          key: 'publishRate',
          label: 'achieved rate (msg/s)',
          value: ratePerS(result.sent, result.sendStartMs, result.sendEndMs),
          unit: 'msg/s',
          better: 'none'
        },
        countFigure('sent', 'sent', result.sent),
        countFigure('lost', 'lost', result.lost, 'lower'),
        countFigure('duplicates', 'duplicates', result.duplicates, 'lower'),
        countFigure('redelivered', 'redelivered', result.redelivered, 'lower')
      ]
      const failures = publishFailures(result, 'publish')
      if (result.lost > 0) failures.push(`${result.lost} messages never delivered`)
      if (result.duplicates > 0) failures.push(`${result.duplicates} messages delivered more than once`)
      const notes = result.sent < messageCount(settings) ? [`only ${result.sent} of ${messageCount(settings)} sent within the send cap`] : []
      return { figures, lost: result.lost, duplicates: result.duplicates, failures, notes }
    })
  }
}
