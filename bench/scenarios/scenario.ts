import type { BrokerEndpoints, Protocol } from '../brokers/broker.ts'

export type { Protocol }

/** What a scenario runs with: its defaults, overridden from the command line. */
export interface ScenarioSettings {
  /** Per publisher (throughput scenarios) or in total (latency). */
  readonly messages: number
  /** Publishers stop at `messages` or after this long, whichever comes first; the latency run lasts this long. */
  readonly durationS: number
  /** Fixed publish rate (latency scenario). */
  readonly ratePerS: number
  /** Outstanding PUBACKs per QoS 1 publisher; unconfirmed messages per AMQP publisher. */
  readonly inflight: number
  readonly payloadBytes: number
  /** Publisher processes (fixed by the shape of the MQTT scenarios). */
  readonly publishers: number
  /** Subscriber or consumer processes (fixed by the shape of the MQTT scenarios). */
  readonly consumers: number
}

const grouped = new Intl.NumberFormat('en-US')

/** Shared by the throughput scenarios. */
export function describeThroughput(settings: ScenarioSettings, qos: 0 | 1): string {
  const window = qos === 1 ? `, ${settings.inflight} PUBACKs in flight per publisher` : ', pipelined'
  return `${grouped.format(settings.messages)} messages per publisher (or ${settings.durationS} s)${window}, ${settings.payloadBytes}-byte payloads`
}

export type Better = 'higher' | 'lower' | 'none'

export interface Figure {
  readonly key: string
  readonly label: string
  readonly value: number
  readonly unit: string
  readonly better: Better
  /** Shown in the one-line summary and compared across brokers. */
  readonly headline?: boolean
}

export interface ScenarioOutcome {
  readonly figures: readonly Figure[]
  readonly lost: number
  readonly duplicates: number
  /** Broken guarantees (e.g. a QoS 1 message lost); the run is reported as failed. */
  readonly failures: readonly string[]
  readonly notes: readonly string[]
}

export interface ScenarioContext {
  /** The broker's endpoint for the scenario's protocol. */
  readonly url: string
  readonly endpoints: BrokerEndpoints
  readonly settings: ScenarioSettings
  /** Aborted at the hard timeout; the scenario's workers are killed with it. */
  readonly signal: AbortSignal
  /** Unique per run, for client ids that must not collide with another run on the same broker. */
  readonly runId: string
  /** The broker's process id, when the harness knows it (for scenarios that measure the process itself). */
  readonly pid?: number | undefined
}

export interface Scenario {
  readonly name: string
  readonly protocol: Protocol
  /**
   * Protocols a cross-protocol scenario needs besides `protocol` (its publisher's): a broker that
   * lacks one is reported as skipped for it.
   */
  readonly alsoNeeds?: readonly Protocol[]
  /** Brokers the scenario is about (e.g. the wharf command itself); any other is reported as skipped for it. */
  readonly targets?: readonly string[]
  /** One line: what is measured. */
  readonly summary: string
  defaults(quick: boolean): ScenarioSettings
  /** Settings that are part of the scenario's shape: the command line does not change them. */
  readonly fixedSettings?: readonly (keyof ScenarioSettings)[]
  /** The settings as they matter to this scenario, for the report. */
  describe(settings: ScenarioSettings): string
  /** Hard bound on one run against one broker, startup and drain included. */
  timeoutMs(settings: ScenarioSettings): number
  run(context: ScenarioContext): Promise<ScenarioOutcome>
}
