import { randomBytes } from 'node:crypto';
import type { BrokerStarter, RunningBroker } from './brokers/broker.ts';
import { readProcessMemory, type ProcessMemory } from './brokers/process-memory.ts';
import type { Figure, Scenario, ScenarioOutcome, ScenarioSettings } from './scenarios/scenario.ts';

/** A broker to measure: one the harness starts per scenario run, or one already running. */
export interface TargetPlan {
  readonly name: string;
  readonly start: BrokerStarter;
}

export type SettingsOverrides = { readonly [K in keyof ScenarioSettings]?: ScenarioSettings[K] | undefined };

export type RunStatus = 'ok' | 'failed' | 'error' | 'skipped';

export interface RunRecord {
  readonly scenario: string;
  readonly target: string;
  /** ok; failed: a guarantee broke (e.g. QoS 1 loss); error: could not run (start, timeout); skipped. */
  readonly status: RunStatus;
  readonly error: string | null;
  readonly settings: ScenarioSettings;
  /** The settings in words, as the scenario describes them. */
  readonly setup: string;
  readonly figures: readonly Figure[];
  readonly lost: number | null;
  readonly duplicates: number | null;
  readonly failures: readonly string[];
  readonly notes: readonly string[];
  readonly memory: ProcessMemory | null;
  readonly brokerVersion: string | null;
  readonly elapsedMs: number;
}

export function scenarioSettings(scenario: Scenario, quick: boolean, overrides: SettingsOverrides): ScenarioSettings {
  const defaults = scenario.defaults(quick);
  return {
    messages: overrides.messages ?? defaults.messages,
    durationS: overrides.durationS ?? defaults.durationS,
    ratePerS: overrides.ratePerS ?? defaults.ratePerS,
    inflight: overrides.inflight ?? defaults.inflight,
    payloadBytes: overrides.payloadBytes ?? defaults.payloadBytes,
  };
}

/**
 * Runs every scenario against every target, one at a time (the machine is shared), with a
 * freshly started broker per scenario so each RSS figure belongs to one scenario.
 */
export async function runBench(
  scenarios: readonly Scenario[],
  targets: readonly TargetPlan[],
  quick: boolean,
  overrides: SettingsOverrides,
  progress: (line: string) => void,
): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (const scenario of scenarios) {
    const settings = scenarioSettings(scenario, quick, overrides);
    for (const target of targets) {
      progress(`${scenario.name} on ${target.name} ...`);
      const record = await runOne(scenario, settings, target);
      progress(`${scenario.name} on ${target.name}: ${record.status}${record.error === null ? '' : ` (${firstLine(record.error)})`}`);
      records.push(record);
    }
  }
  return records;
}

async function runOne(scenario: Scenario, settings: ScenarioSettings, target: TargetPlan): Promise<RunRecord> {
  const startedMs = Date.now();
  const base = { scenario: scenario.name, target: target.name, settings, setup: scenario.describe(settings) };
  const blank = { figures: [], lost: null, duplicates: null, failures: [], notes: [], memory: null };
  let broker: RunningBroker;
  try {
    broker = await target.start();
  } catch (err) {
    return { ...base, ...blank, status: 'error', error: `broker did not start: ${message(err)}`, brokerVersion: null, elapsedMs: Date.now() - startedMs };
  }
  const brokerVersion = broker.version ?? null;
  try {
    const endpoint = scenario.protocol === 'mqtt' ? broker.endpoints.mqttUrl : broker.endpoints.amqpUrl;
    if (endpoint === undefined) {
      return { ...base, ...blank, status: 'skipped', error: `${target.name} does not speak ${scenario.protocol}`, brokerVersion, elapsedMs: 0 };
    }
    let outcome: ScenarioOutcome;
    try {
      outcome = await runWithTimeout(scenario, settings, broker);
    } catch (err) {
      const memory = broker.pid === undefined ? null : (readProcessMemory(broker.pid) ?? null);
      return { ...base, ...blank, memory, status: 'error', error: message(err), brokerVersion, elapsedMs: Date.now() - startedMs };
    }
    const memory = broker.pid === undefined ? null : (readProcessMemory(broker.pid) ?? null);
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
      elapsedMs: Date.now() - startedMs,
    };
  } finally {
    await broker.stop();
  }
}

async function runWithTimeout(scenario: Scenario, settings: ScenarioSettings, broker: RunningBroker): Promise<ScenarioOutcome> {
  const timeoutMs = scenario.timeoutMs(settings);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`hard timeout: not done within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  try {
    return await scenario.run({
      endpoints: broker.endpoints,
      settings,
      signal: controller.signal,
      runId: randomBytes(4).toString('hex'),
    });
  } finally {
    clearTimeout(timer);
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
