import { writeFileSync } from 'node:fs';
import { runBench, scenarioSettings, type RunRecord, type TargetPlan } from './bench-runner.ts';
import { externalBroker } from './brokers/external.ts';
import { BROKER_STARTERS } from './brokers/index.ts';
import { parseBenchArgs, USAGE, UsageError, type BenchArgs } from './cli-args.ts';
import { describeMachine } from './machine.ts';
import { formatMachine, formatScenarioTable, formatSummaryLine } from './report.ts';
import { SCENARIOS } from './scenarios/index.ts';
import type { Scenario } from './scenarios/scenario.ts';

/** `npm run bench`: every scenario against Wharf and Mosquitto, side by side. See bench/README.md. */

function selectScenarios(names: readonly string[]): Scenario[] {
  if (names.length === 0) return [...SCENARIOS.values()];
  return names.map((name) => {
    const scenario = SCENARIOS.get(name);
    if (scenario === undefined) throw new UsageError(`--scenario: unknown "${name}"; known: ${[...SCENARIOS.keys()].join(', ')}`);
    return scenario;
  });
}

function selectTargets(args: BenchArgs): TargetPlan[] {
  if (args.url !== undefined) {
    const name = args.targetGiven ? args.target : 'external';
    const broker = externalBroker(name, { mqttUrl: args.url }, args.pid);
    return [{ name, start: async () => broker }];
  }
  const names = args.target === 'both' ? ['wharf', 'mosquitto'] : [args.target];
  return names.map((name) => {
    const start = BROKER_STARTERS.get(name);
    if (start === undefined) throw new UsageError(`--target: no starter for "${name}"`);
    return { name, start };
  });
}

function groupByScenario(records: readonly RunRecord[]): RunRecord[][] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) groups.set(r.scenario, [...(groups.get(r.scenario) ?? []), r]);
  return [...groups.values()];
}

async function main(): Promise<number> {
  const args = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.list) {
    for (const s of SCENARIOS.values()) process.stdout.write(`${s.name.padEnd(14)} ${s.protocol}  ${s.summary}\n`);
    return 0;
  }
  const scenarios = selectScenarios(args.scenarios);
  const targets = selectTargets(args);
  const machine = describeMachine();
  const startedAt = new Date().toISOString();
  const overrides = { messages: args.messages, durationS: args.durationS, ratePerS: args.ratePerS, inflight: args.inflight };
  process.stdout.write(`${formatMachine(machine, [])}\n\n`);
  const records = await runBench(scenarios, targets, args.quick, overrides, (line) => process.stderr.write(`${line}\n`));

  const groups = groupByScenario(records);
  process.stdout.write(`\n${formatMachine(machine, records)}\n\n`);
  for (const group of groups) {
    const scenario = SCENARIOS.get(group[0]?.scenario ?? '');
    process.stdout.write(`${formatScenarioTable(scenario?.summary ?? '', group)}\n\n`);
  }
  const nameWidth = Math.max(...groups.map((g) => g[0]?.scenario.length ?? 0)) + 2;
  process.stdout.write(`summary\n${groups.map((g) => formatSummaryLine(g, nameWidth)).join('\n')}\n`);

  if (args.json !== undefined) {
    const settings = Object.fromEntries(scenarios.map((s) => [s.name, scenarioSettings(s, args.quick, overrides)]));
    const report = { machine, startedAt, quick: args.quick, settings, results: records };
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\nJSON written to ${args.json}\n`);
  }
  return records.some((r) => r.status === 'failed' || r.status === 'error') ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
