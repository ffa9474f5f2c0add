import { randomBytes } from 'node:crypto'
import { endpointFor, type BrokerStarter, type Protocol, type RunningBroker } from './brokers/broker.ts'
import { readProcessMemory, type ProcessMemory } from './brokers/process-memory.ts'
import type { Figure, Scenario, ScenarioOutcome, ScenarioSettings } from './scenarios/scenario.ts'

/** A broker to measure: one the harness starts per scenario run, or one already running. */
export interface TargetPlan {
  readonly name: string
  /** A scenario of another protocol is skipped without starting the broker. */
  readonly protocols: readonly Protocol[]
  /** Why the broker cannot start here (with the fix), or undefined. */
  readonly unavailable: string | undefined
  /** Asked for by name: if unavailable, the run is an error rather than a skip. */
  readonly required: boolean
  readonly start: BrokerStarter
}

export type SettingsOverrides = { readonly [K in keyof ScenarioSettings]?: ScenarioSettings[K] | undefined }

export type RunStatus = 'ok' | 'failed' | 'error' | 'skipped'

export interface RunRecord {
  readonly scenario: string
  readonly protocol: Protocol
  readonly target: string
  /**
   * ok; failed: a guarantee broke (e.g. QoS 1 loss); error: could not run (start, timeout);
   * skipped: the broker does not speak the protocol, or is not installed and was not asked for by name.
   */
  readonly status: RunStatus
  readonly error: string | null
  readonly settings: ScenarioSettings
  /** The settings in words, as the scenario describes them. */
  readonly setup: string
  readonly figures: readonly Figure[]
  readonly lost: number | null
  readonly duplicates: number | null
  readonly failures: readonly string[]
  readonly notes: readonly string[]
  readonly memory: ProcessMemory | null
  readonly brokerVersion: string | null
  readonly elapsedMs: number
}

export function scenarioSettings(scenario: Scenario, quick: boolean, overrides: SettingsOverrides): ScenarioSettings {
  const defaults = scenario.defaults(quick)
  const fixed = new Set(scenario.fixedSettings ?? [])
  const pick = <K extends keyof ScenarioSettings>(key: K): ScenarioSettings[K] => (fixed.has(key) ? defaults[key] : (overrides[key] ?? defaults[key]))
  return {
    messages: pick('messages'),
    durationS: pick('durationS'),
    ratePerS: pick('ratePerS'),
    inflight: pick('inflight'),
    payloadBytes: pick('payloadBytes'),
    publishers: pick('publishers'),
    consumers: pick('consumers')
  }
}

/** Overrides given that a scenario's shape does not take, e.g. --publishers for fanin-qos1. */
export function ignoredOverrides(scenario: Scenario, overrides: SettingsOverrides): (keyof ScenarioSettings)[] {
  return (scenario.fixedSettings ?? []).filter(key => overrides[key] !== undefined)
}

/**
 * Runs every scenario against every target, one at a time (the machine is shared), with a
 * freshly started broker per scenario so each RSS figure belongs to one scenario.
 */
export async function runBench(
  scenarios: readonly Scenario[],
  targetsFor: (scenario: Scenario) => readonly TargetPlan[],
  quick: boolean,
  overrides: SettingsOverrides,
  progress: (line: string) => void
): Promise<RunRecord[]> {
  const records: RunRecord[] = []
  for (const scenario of scenarios) {
    const settings = scenarioSettings(scenario, quick, overrides)
    for (const target of targetsFor(scenario)) {
      progress(`${scenario.name} on ${target.name} ...`)
      const record = await runOne(scenario, settings, target)
      progress(`${scenario.name} on ${target.name}: ${record.status}${record.error === null ? '' : ` (${firstLine(record.error)})`}`)
      records.push(record)
    }
  }
  return records
}

async function runOne(scenario: Scenario, settings: ScenarioSettings, target: TargetPlan): Promise<RunRecord> {
  const startedMs = Date.now()
  const base = { scenario: scenario.name, protocol: scenario.protocol, target: target.name, settings, setup: scenario.describe(settings) }
  const blank = { figures: [], lost: null, duplicates: null, failures: [], notes: [], memory: null }
  const unspoken = [scenario.protocol, ...(scenario.alsoNeeds ?? [])].find(p => !target.protocols.includes(p))
  if (unspoken !== undefined) {
    return { ...base, ...blank, status: 'skipped', error: `${target.name} does not speak ${unspoken}`, brokerVersion: null, elapsedMs: 0 }
  }
  if (scenario.targets !== undefined && !scenario.targets.includes(target.name)) {
    return { ...base, ...blank, status: 'skipped', error: `${scenario.name} measures ${scenario.targets.join(', ')} only`, brokerVersion: null, elapsedMs: 0 }
  }
  if (target.unavailable !== undefined) {
    const status = target.required ? 'error' : 'skipped'
    return { ...base, ...blank, status, error: `${target.name} unavailable: ${target.unavailable}`, brokerVersion: null, elapsedMs: 0 }
  }
  let broker: RunningBroker
  try {
    broker = await target.start()
  } catch (err) {
    return { ...base, ...blank, status: 'error', error: `broker did not start: ${message(err)}`, brokerVersion: null, elapsedMs: Date.now() - startedMs }
  }
  const brokerVersion = broker.version ?? null
  try {
    const endpoint = endpointFor(broker.endpoints, scenario.protocol)
    if (endpoint === undefined) {
      return { ...base, ...blank, status: 'skipped', error: `${target.name} does not speak ${scenario.protocol}`, brokerVersion, elapsedMs: 0 }
    }
    let outcome: ScenarioOutcome
    try {
      outcome = await runWithTimeout(scenario, settings, broker, endpoint)
    } catch (err) {
      const memory = broker.pid === undefined ? null : (readProcessMemory(broker.pid) ?? null)
      return { ...base, ...blank, memory, status: 'error', error: message(err), brokerVersion, elapsedMs: Date.now() - startedMs }
    }
    const memory = broker.pid === undefined ? null : (readProcessMemory(broker.pid) ?? null)
    return {
      ...base,
      status: outcome.failures.length === 0 ? 'ok' : 'failed',
      error: null,
      figures: outcome.figures,
      lost: outcome.lost,
      duplicates: outcome.duplicates,
      failures: outcome.failures,
      notes: outcome.notes,
      memory,
      brokerVersion,
      elapsedMs: Date.now() - startedMs
    }
  } finally {
    await broker.stop()
  }
}

async function runWithTimeout(scenario: Scenario, settings: ScenarioSettings, broker: RunningBroker, url: string): Promise<ScenarioOutcome> {
  const timeoutMs = scenario.timeoutMs(settings)
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new Error(`hard timeout: not done within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs)
  try {
    return await scenario.run({
      url,
      endpoints: broker.endpoints,
      settings,
      signal: controller.signal,
      runId: randomBytes(4).toString('hex'),
      pid: broker.pid
    })
  } finally {
    clearTimeout(timer)
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? ''
}
