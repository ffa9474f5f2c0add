/** The wire protocols a scenario speaks. */
export type Protocol = 'mqtt' | 'amqp'

/** A broker the benchmark talks to: started by the harness or already running. */
export interface BrokerEndpoints {
  /** Absent when the broker does not speak MQTT (RabbitMQ here); MQTT scenarios are then skipped for it. */
  readonly mqttUrl?: string
  /** Absent when the broker does not speak AMQP (Mosquitto); AMQP scenarios are then skipped for it. */
  readonly amqpUrl?: string
  /** MQTT over WebSocket (`ws://host:port/path`), for the cross-protocol scenarios; only Wharf's is known. */
  readonly mqttWsUrl?: string
}

/** What Wharf is compared with by default, per protocol. */
export const PEER_OF: Readonly<Record<Protocol, string>> = { mqtt: 'mosquitto', amqp: 'rabbitmq' }

export function endpointFor(endpoints: BrokerEndpoints, protocol: Protocol): string | undefined {
  return protocol === 'mqtt' ? endpoints.mqttUrl : endpoints.amqpUrl
}

export interface RunningBroker {
  /** Label used in reports: `wharf`, `mosquitto`, `rabbitmq` or `external`. */
  readonly target: string
  readonly endpoints: BrokerEndpoints
  /** Broker process id, for RSS; undefined when the harness cannot see the process. */
  readonly pid: number | undefined
  readonly version: string | undefined
  stop(): Promise<void>
}

export type BrokerStarter = () => Promise<RunningBroker>

/** A broker the harness can start itself. */
export interface BrokerTarget {
  readonly name: string
  /** Known before it starts, so a scenario it cannot run does not start it. */
  readonly protocols: readonly Protocol[]
  /** Why it cannot start on this machine, with the command that fixes it; undefined when it can. */
  unavailable(): string | undefined
  readonly start: BrokerStarter
}
