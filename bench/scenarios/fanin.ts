import { pubSubOutcome } from './pubsub-figures.ts'
import { runPubSub } from './pubsub-run.ts'
import { describeThroughput, type Scenario, type ScenarioSettings } from './scenario.ts'

const PUBLISHERS = 4

export function faninDefaults(quick: boolean): ScenarioSettings {
  return {
    messages: quick ? 5000 : 200_000,
    durationS: quick ? 20 : 60,
    ratePerS: 1000,
    inflight: 100,
    payloadBytes: 64,
    publishers: PUBLISHERS,
    consumers: 1
  }
}

/** 4 publisher processes → 1 subscriber on bench/#; QoS 1 uses a persistent session. */
export function faninScenario(qos: 0 | 1): Scenario {
  const name = `fanin-qos${qos}`
  return {
    name,
    protocol: 'mqtt',
    summary:
      qos === 0
        ? `${PUBLISHERS} publishers -> 1 subscriber, QoS 0, pipelined: msg/s received (first to last), lost`
        : `${PUBLISHERS} publishers -> 1 persistent-session subscriber, QoS 1, bounded in flight: PUBACK/s, msg/s received, lost (must be 0), duplicates`,
    defaults: faninDefaults,
    fixedSettings: ['publishers', 'consumers'],
    describe: settings => describeThroughput(settings, qos),
    timeoutMs: settings => settings.durationS * 1000 + 60_000,
    async run(context) {
      const result = await runPubSub(context, {
        scenario: name,
        qos,
        publishers: PUBLISHERS,
        subscriberProcesses: 1,
        clientsPerProcess: 1,
        persistentSession: qos === 1,
        hardTimeoutMs: this.timeoutMs(context.settings) + 5000
      })
      return pubSubOutcome(result, qos, 'received (msg/s)')
    }
  }
}
