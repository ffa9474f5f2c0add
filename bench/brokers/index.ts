import type { BrokerTarget } from './broker.ts'
import { MOSQUITTO_MISSING, findMosquitto, startMosquitto } from './mosquitto.ts'
import { rabbitmqUnavailable, startRabbitmq } from './rabbitmq.ts'
import { startWharf } from './wharf.ts'

const TARGETS: readonly BrokerTarget[] = [
  { name: 'wharf', protocols: ['mqtt', 'amqp'], unavailable: () => undefined, start: startWharf },
  {
    name: 'mosquitto',
    protocols: ['mqtt'],
    unavailable: () => (findMosquitto() === undefined ? MOSQUITTO_MISSING : undefined),
    start: startMosquitto
  },
  { name: 'rabbitmq', protocols: ['amqp'], unavailable: rabbitmqUnavailable, start: startRabbitmq }
]

/** Brokers the harness can start itself, by target name, in report order. */
export const BROKER_TARGETS: ReadonlyMap<string, BrokerTarget> = new Map(TARGETS.map(t => [t.name, t]))

export { PEER_OF } from './broker.ts'
