import type { BrokerEndpoints, RunningBroker } from './broker.ts'

/** A broker someone else runs (`--url`); the harness neither starts nor stops it. */
export function externalBroker(target: string, endpoints: BrokerEndpoints, pid: number | undefined): RunningBroker {
  return {
    target,
    endpoints,
    pid,
    version: undefined,
    async stop() {}
  }
}
