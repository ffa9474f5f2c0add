import { probeWakeupLateness, readCpuTicks, stealPercent } from '../machine-noise.ts'
import type { LatencyConfig } from '../workers/mqtt-latency.ts'
import { SLOW_MS } from '../workers/worker-messages.ts'
import { WorkerGroup } from '../workers/worker-process.ts'
import { ratePerS } from './pubsub-run.ts'
import type { Figure, Scenario, ScenarioSettings } from './scenario.ts'
import { MQTT_LATENCY } from './worker-files.ts'

/** --messages only caps the count; by default it is rate × duration. */
const NO_MESSAGE_CAP = 100_000_000

/** One unmeasured second at the same rate first (at most 2,000 messages). */
const WARMUP_S = 1
const WARMUP_MESSAGES_MAX = 2000

/** How long the machine's own timer lateness is probed before the run (bench/machine-noise.ts). */
const WAKEUP_PROBE_MS = 3000
/** Issue 9's target for the p99, reported beside the figure, not asserted. */
const TARGET_P99_MS = 1

function messageCount(settings: ScenarioSettings): number {
  return Math.max(1, Math.min(settings.messages, Math.round(settings.ratePerS * settings.durationS)))
}

/** One publisher at a fixed rate and one subscriber in the same process, QoS 1: end-to-end latency. */
export const latencyQos1: Scenario = {
  name: 'latency-qos1',
  protocol: 'mqtt',
  summary: '1 publisher at a fixed rate -> 1 subscriber (same process), QoS 1: end-to-end latency p50/p90/p99/max',
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
    `${settings.ratePerS} msg/s for ${settings.durationS} s (${messageCount(settings)} messages) after ${WARMUP_S} s unmeasured, ` +
    `at most ${settings.inflight} in flight, ${settings.payloadBytes}-byte payloads`,
  timeoutMs: settings => (messageCount(settings) / settings.ratePerS + WARMUP_S) * 1000 + 45_000,
  async run(context) {
    const { settings } = context
    const messages = messageCount(settings)
    // Before any worker starts: the probe blocks this thread, and measures the machine, not the run.
    const wakeup = probeWakeupLateness(WAKEUP_PROBE_MS)
    const group = new WorkerGroup(context.signal)
    try {
      const config: LatencyConfig = {
        url: context.url,
        clientIdPrefix: `wharf-bench-latency-${context.runId}`,
        topic: 'bench/latency/x',
        ratePerS: settings.ratePerS,
        messages,
        warmupMessages: Math.min(WARMUP_MESSAGES_MAX, Math.round(settings.ratePerS * WARMUP_S)),
        inflight: settings.inflight,
        payloadBytes: settings.payloadBytes,
        settleMs: 5000,
        hardTimeoutMs: this.timeoutMs(settings) + 5000
      }
      const worker = group.spawn('latency worker', MQTT_LATENCY, config)
      await worker.next('ready')
      const ticksBefore = readCpuTicks()
      worker.send({ type: 'start' })
      const { result } = await worker.next('result')
      const ticksAfter = readCpuTicks()
      await group.stopAll()
      if (result.kind !== 'latency') throw new Error(`latency worker sent a ${result.kind} result`)
      const { latencyMs, laterHalfMs, slowBySecond, counts } = result
      const ms = (key: string, label: string, value: number, headline = false): Figure => ({
        key,
        label,
        value,
        unit: 'ms',
        better: 'lower',
        ...(headline ? { headline } : {})
      })
      const figures: Figure[] = [
        ms('p50', 'latency p50', latencyMs.p50, true),
        ms('p90', 'latency p90', latencyMs.p90),
        ms('p99', 'latency p99', latencyMs.p99, true),
        ms('max', 'latency max', latencyMs.max),
        ms('mean', 'latency mean', latencyMs.mean),
        ms('laterHalfP99', 'latency p99, second half of the run', laterHalfMs.p99),
        {
          key: 'publishRate',
          label: 'achieved rate (msg/s)',
          value: ratePerS(result.sent, result.sendStartMs, result.sendEndMs),
          unit: 'msg/s',
          better: 'none'
        },
        { key: 'sent', label: 'sent', value: result.sent, unit: 'count', better: 'none' },
        { key: 'lost', label: 'lost', value: counts.lost, unit: 'count', better: 'lower' },
        { key: 'duplicates', label: 'duplicates', value: counts.duplicates, unit: 'count', better: 'lower' },
        {
          key: 'wakeupP99',
          label: `machine: 1 ms timer lateness p99 (${WAKEUP_PROBE_MS / 1000} s probe before the run)`,
          value: wakeup.p99Ms,
          unit: 'ms',
          better: 'none'
        },
        { key: 'wakeupLate', label: 'machine: timer wakeups over 1 ms late (%)', value: wakeup.overOneMsPercent, unit: '%', better: 'none' }
      ]
      const steal = ticksBefore === undefined || ticksAfter === undefined ? undefined : stealPercent(ticksBefore, ticksAfter)
      if (steal !== undefined) figures.push({ key: 'steal', label: 'machine: CPU steal during the run (%)', value: steal, unit: '%', better: 'none' })
      const verdict = latencyMs.p99 < TARGET_P99_MS ? 'met' : 'MISSED'
      const notes = [
        `target (issue 9, reported, not asserted): p99 under ${TARGET_P99_MS} ms: ${verdict} (${latencyMs.p99.toFixed(3)} ms). ` +
          `The machine alone: ${wakeup.overOneMsPercent.toFixed(2)}% of 1 ms timer waits woke over 1 ms late (p99 ${wakeup.p99Ms.toFixed(3)} ms)` +
          (steal === undefined ? '' : `; the host took ${steal.toFixed(1)}% of the CPU during the run`),
        // Where the slow messages fall: on a fresh broker they bunch in the first seconds (README, "latency-qos1").
        `messages over ${SLOW_MS} ms in each second of the measured run: ${slowBySecond.join(' ')}; ` +
          `p99 over the second half of the run ${laterHalfMs.p99.toFixed(3)} ms (the target is judged on the whole run)`
      ]
      const failures: string[] = []
      if (counts.lost > 0) failures.push(`QoS 1: ${counts.lost} messages never delivered`)
      if (result.acked < result.sent) failures.push(`${result.sent - result.acked} publishes never acknowledged`)
      return { figures, lost: counts.lost, duplicates: counts.duplicates, failures, notes }
    } finally {
      await group.dispose()
    }
  }
}
