import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Figure, Scenario, ScenarioOutcome, ScenarioSettings } from './scenario.ts'

const WHARF_BIN = fileURLToPath(new URL('../../gateway/bin/wharf.js', import.meta.url))
/** Issue 10's target, reported beside the figure (a measurement, not a check). */
const VERSION_TARGET_MS = 300
const RUN_TIMEOUT_MS = 10_000

/** Wall time of one `node gateway/bin/wharf.js --version`, from spawn to exit. */
function timeOneRun(signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const startedNs = process.hrtime.bigint()
    const child = spawn(process.execPath, [WHARF_BIN, '--version'], { stdio: ['ignore', 'pipe', 'pipe'], signal, timeout: RUN_TIMEOUT_MS })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.once('error', reject)
    child.once('exit', code => {
      const ms = Number(process.hrtime.bigint() - startedNs) / 1e6
      if (code === 0 && /^wharf \d/.test(output)) resolve(ms)
      else reject(new Error(`wharf --version exited ${code}: ${output.trim()}`))
    })
  })
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

/** How long the wharf command takes to answer --version: what every CLI call pays before it does anything. */
export const cliVersion: Scenario = {
  name: 'cli-version',
  protocol: 'mqtt',
  targets: ['wharf'],
  summary: `\`wharf --version\` wall time, spawn to exit, one run after another (target: at most ${VERSION_TARGET_MS} ms)`,
  defaults: (quick): ScenarioSettings => ({
    messages: quick ? 5 : 20,
    durationS: 0,
    ratePerS: 0,
    inflight: 0,
    payloadBytes: 0,
    publishers: 0,
    consumers: 0
  }),
  fixedSettings: ['durationS', 'ratePerS', 'inflight', 'payloadBytes', 'publishers', 'consumers'],
  describe: settings => `${settings.messages} runs (--messages), after one unmeasured run`,
  timeoutMs: settings => (settings.messages + 1) * RUN_TIMEOUT_MS,
  async run(context): Promise<ScenarioOutcome> {
    await timeOneRun(context.signal) // warms the file cache, as a user's second call would find it
    const times: number[] = []
    for (let i = 0; i < context.settings.messages; i++) times.push(await timeOneRun(context.signal))
    times.sort((a, b) => a - b)
    const ms = (key: string, label: string, value: number, headline = false): Figure => ({
      key,
      label,
      value,
      unit: 'ms',
      better: 'lower',
      ...(headline ? { headline } : {})
    })
    const p50 = percentile(times, 50)
    return {
      figures: [
        ms('p50', 'wharf --version p50', p50, true),
        ms('p90', 'wharf --version p90', percentile(times, 90)),
        ms('max', 'wharf --version max', times.at(-1) ?? 0)
      ],
      lost: 0,
      duplicates: 0,
      failures: [],
      notes: [`wharf --version p50 ${p50.toFixed(0)} ms (target: at most ${VERSION_TARGET_MS} ms)`]
    }
  }
}
