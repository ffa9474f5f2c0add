import { setTimeout as sleep } from 'node:timers/promises'
import { readProcessMemory } from '../brokers/process-memory.ts'
import type { Figure, Scenario, ScenarioOutcome, ScenarioSettings } from './scenario.ts'

const MB = 1024 * 1024
/** Issue 10's target for Wharf, reported beside the figure (a measurement, not a check). */
const WHARF_IDLE_RSS_TARGET_MB = 80

/**
 * The broker started and left alone: resident memory when it is ready and after --duration-s idle
 * seconds. V8 gives back the heap that start-up used after several idle seconds, so the second figure
 * is the one that stays.
 */
export const idleRss: Scenario = {
  name: 'idle-rss',
  protocol: 'mqtt',
  summary: `the broker started and left idle, no client: resident memory (Wharf's target: under ${WHARF_IDLE_RSS_TARGET_MB} MB)`,
  defaults: (quick): ScenarioSettings => ({
    messages: 0,
    durationS: quick ? 20 : 30,
    ratePerS: 0,
    inflight: 0,
    payloadBytes: 0,
    publishers: 0,
    consumers: 0
  }),
  fixedSettings: ['messages', 'ratePerS', 'inflight', 'payloadBytes', 'publishers', 'consumers'],
  describe: settings => `RSS when ready, then after ${settings.durationS} s without a client`,
  timeoutMs: settings => settings.durationS * 1000 + 30_000,
  async run(context): Promise<ScenarioOutcome> {
    const { pid, settings } = context
    const notes: string[] = []
    const atReady = pid === undefined ? undefined : readProcessMemory(pid)
    await sleep(settings.durationS * 1000, undefined, { signal: context.signal })
    const idle = pid === undefined ? undefined : readProcessMemory(pid)
    if (atReady === undefined || idle === undefined) {
      notes.push('no process id or /proc entry for the broker: its memory is unknown')
      return { figures: [], lost: 0, duplicates: 0, failures: [], notes }
    }
    const mb = (key: string, label: string, bytes: number, headline = false): Figure => ({
      key,
      label,
      value: bytes / MB,
      unit: 'MB',
      better: 'lower',
      ...(headline ? { headline } : {})
    })
    const figures = [
      mb('rssReady', 'rss when ready', atReady.rssBytes),
      mb('rssIdle', `rss after ${settings.durationS} s idle`, idle.rssBytes, true),
      mb('rssPeak', 'rss peak', idle.peakRssBytes)
    ]
    notes.push(`rss after ${settings.durationS} s idle: ${(idle.rssBytes / MB).toFixed(1)} MB (Wharf's target: under ${WHARF_IDLE_RSS_TARGET_MB} MB)`)
    return { figures, lost: 0, duplicates: 0, failures: [], notes }
  }
}
