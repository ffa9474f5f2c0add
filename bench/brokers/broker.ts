/** A broker the benchmark talks to: started by the harness or already running. */
export interface BrokerEndpoints {
  readonly mqttUrl: string;
  /** Absent when the broker does not speak AMQP; AMQP scenarios are then skipped for it. */
  readonly amqpUrl?: string;
}

export interface RunningBroker {
  /** Label used in reports: `wharf`, `mosquitto` or `external`. */
  readonly target: string;
  readonly endpoints: BrokerEndpoints;
  /** Broker process id, for RSS; undefined when the harness cannot see the process. */
  readonly pid: number | undefined;
  readonly version: string | undefined;
  stop(): Promise<void>;
}

export type BrokerStarter = () => Promise<RunningBroker>;
