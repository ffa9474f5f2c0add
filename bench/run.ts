import { writeFileSync } from 'node:fs'
import { ignoredOverrides, runBench, scenarioSettings, type RunRecord, type TargetPlan } from './bench-runner.ts'
import type { Protocol } from './brokers/broker.ts'
import { externalBroker } from './brokers/external.ts'
import { BROKER_TARGETS, PEER_OF } from './brokers/index.ts'
import { parseBenchArgs, USAGE, UsageError, type BenchArgs } from './cli-args.ts'
import { describeMachine } from './machine.ts'
import { formatMachine, formatScenarioTable, formatSummaryLine } from './report.ts'
import { SCENARIOS } from './scenarios/index.ts'
import type { Scenario } from './scenarios/scenario.ts'

/** `npm run bench`: every scenario against Wharf and the peer of its protocol, side by side. See bench/README.md. */

/** The targets for each scenario of this run. */
type TargetsFor = (scenario: Scenario) => readonly TargetPlan[]

function startedTarget(name: string, required: boolean): TargetPlan {
  const target = BROKER_TARGETS.get(name)
  if (target === undefined) throw new UsageError(`--target: unknown "${name}"; known: ${[...BROKER_TARGETS.keys()].join(', ')}, all`)
  return { name, protocols: target.protocols, unavailable: target.unavailable(), required, start: target.start }
}

function selectTargets(args: BenchArgs): { targetsFor: TargetsFor; protocols: ReadonlySet<Protocol> } {
  const { target, urls } = args
  if (urls !== undefined) {
    const name = target.kind === 'named' ? (target.names[0] ?? 'external') : 'external'
    const endpoints = { ...(urls.mqtt === undefined ? {} : { mqttUrl: urls.mqtt }), ...(urls.amqp === undefined ? {} : { amqpUrl: urls.amqp }) }
    const broker = externalBroker(name, endpoints, args.pid)
    const protocols: Protocol[] = [...(urls.mqtt === undefined ? [] : ['mqtt' as const]), ...(urls.amqp === undefined ? [] : ['amqp' as const])]
    const plan: TargetPlan = { name, protocols, unavailable: undefined, required: true, start: async () => broker }
    return { targetsFor: () => [plan], protocols: new Set(protocols) }
  }
  if (target.kind === 'named') {
    const plans = target.names.map(name => startedTarget(name, true))
    return { targetsFor: () => plans, protocols: new Set(plans.flatMap(p => p.protocols)) }
  }
  // Looked up once, so an unavailable broker is checked (and reported) once per scenario, not started.
  const plans = [...BROKER_TARGETS.keys()].map(name => startedTarget(name, false))
  const speaks = (scenario: Scenario): TargetPlan[] => plans.filter(p => p.protocols.includes(scenario.protocol))
  const targetsFor: TargetsFor =
    target.kind === 'all' ? speaks : scenario => speaks(scenario).filter(p => p.name === 'wharf' || p.name === PEER_OF[scenario.protocol])
  return { targetsFor, protocols: new Set(plans.flatMap(p => p.protocols)) }
}

/** Named scenarios in that order; by default every scenario one of the targets can run. */
function selectScenarios(names: readonly string[], protocols: ReadonlySet<Protocol>): Scenario[] {
  if (names.length === 0) return [...SCENARIOS.values()].filter(s => [s.protocol, ...(s.alsoNeeds ?? [])].every(p => protocols.has(p)))
  return names.map(name => {
    const scenario = SCENARIOS.get(name)
    if (scenario === undefined) throw new UsageError(`--scenario: unknown "${name}"; known: ${[...SCENARIOS.keys()].join(', ')}`)
    return scenario
  })
}

function groupByScenario(records: readonly RunRecord[]): RunRecord[][] {
  const groups = new Map<string, RunRecord[]>()
  for (const r of records) groups.set(r.scenario, [...(groups.get(r.scenario) ?? []), r])
  return [...groups.values()]
}

async function main(): Promise<number> {
  const args = parseBenchArgs(process.argv.slice(2))
  if (args.help) {
    process.stdout.write(USAGE)
    return 0
  }
  if (args.list) {
    for (const s of SCENARIOS.values()) process.stdout.write(`${s.name.padEnd(22)} ${s.protocol}  ${s.summary}\n`)
    return 0
  }
  const { targetsFor, protocols } = selectTargets(args)
  const scenarios = selectScenarios(args.scenarios, protocols)
  const machine = describeMachine()
  const startedAt = new Date().toISOString()
  const overrides = {
    messages: args.messages,
    durationS: args.durationS,
    ratePerS: args.ratePerS,
    inflight: args.inflight,
    publishers: args.publishers,
    consumers: args.consumers
  }
  for (const scenario of scenarios) {
    const ignored = ignoredOverrides(scenario, overrides)
    if (ignored.length > 0) process.stderr.write(`${scenario.name}: its shape fixes ${ignored.join(', ')}; the option is ignored for it\n`)
  }
  process.stdout.write(`${formatMachine(machine, [])}\n\n`)
  const records = await runBench(scenarios, targetsFor, args.quick, overrides, line => process.stderr.write(`${line}\n`))

  const groups = groupByScenario(records)
  process.stdout.write(`\n${formatMachine(machine, records)}\n\n`)
  for (const group of groups) {
    const scenario = SCENARIOS.get(group[0]?.scenario ?? '')
    process.stdout.write(`${formatScenarioTable(scenario?.summary ?? '', group)}\n\n`)
  }
  const nameWidth = Math.max(...groups.map(g => g[0]?.scenario.length ?? 0)) + 2
  process.stdout.write(`summary\n${groups.map(g => formatSummaryLine(g, nameWidth)).join('\n')}\n`)

  if (args.json !== undefined) {
    const settings = Object.fromEntries(scenarios.map(s => [s.name, scenarioSettings(s, args.quick, overrides)]))
    const report = { machine, startedAt, quick: args.quick, settings, results: records }
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`)
    process.stdout.write(`\nJSON written to ${args.json}\n`)
  }
  return records.some(r => r.status === 'failed' || r.status === 'error') ? 1 : 0
}

main().then(
  code => {
    process.exitCode = code
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`)
      process.exitCode = 2
      return
    }
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    process.exitCode = 1
  }
)
