import { pubSubOutcome } from './pubsub-figures.ts'
import { runPubSub } from './pubsub-run.ts'
import { describeThroughput, type Scenario } from './scenario.ts'

const SUBSCRIBER_PROCESSES = 2
const CLIENTS_PER_PROCESS = 4

/** 1 publisher → 8 subscribers (4 clients in each of 2 processes), all on bench/#. */
export function fanoutScenario(qos: 0 | 1): Scenario {
  const subscribers = SUBSCRIBER_PROCESSES * CLIENTS_PER_PROCESS
  return {
    name: `fanout-qos${qos}`,
    protocol: 'mqtt',
    summary: `1 publisher -> ${subscribers} subscribers (${SUBSCRIBER_PROCESSES} processes), QoS ${qos}: deliveries/s in total, lost`,
    defaults: quick => ({
      messages: quick ? 5000 : 100_000,
      durationS: quick ? 20 : 60,
      ratePerS: 1000,
      inflight: 100,
      payloadBytes: 64,
      publishers: 1,
      consumers: SUBSCRIBER_PROCESSES
    }),
    fixedSettings: ['publishers', 'consumers'],
    describe: settings => describeThroughput(settings, qos),
    timeoutMs: settings => settings.durationS * 1000 + 60_000,
    async run(context) {
      const result = await runPubSub(context, {
        scenario: `fanout-qos${qos}`,
        qos,
        publishers: 1,
        subscriberProcesses: SUBSCRIBER_PROCESSES,
        clientsPerProcess: CLIENTS_PER_PROCESS,
        persistentSession: false,
        hardTimeoutMs: this.timeoutMs(context.settings) + 5000
      })
      return pubSubOutcome(result, qos, 'deliveries (msg/s)')
    }
  }
}
