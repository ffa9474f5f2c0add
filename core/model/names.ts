// Names and how errors describe them (RabbitMQ's wording, which client code and operators know).
import { randomBytes } from 'node:crypto'
import { accessRefused } from '../errors.ts'

export const describeQueue = (vhost: string, name: string): string => `queue '${name}' in vhost '${vhost}'`
export const describeExchange = (vhost: string, name: string): string => `exchange '${name}' in vhost '${vhost}'`

/**
 * Prefixes of state adapters keep in core under reserved names; clients may not declare them (a
 * passive declare, a consume or a delete still reach them): MQTT sessions and shared-subscription
 * groups, bridge backlogs and their dead letters. A client's queue of the same name would take
 * their place with its own arguments (exclusive, auto-delete) and end them with its connection.
 */
export const RESERVED_QUEUE_PREFIXES: readonly string[] = ['amq.', 'mqtt-session/', 'mqtt-share/', 'bridge/', 'bridge-dead/']

/** The reserved prefix a queue name starts with, or undefined. */
export function reservedQueuePrefixOf(name: string): string | undefined {
  return RESERVED_QUEUE_PREFIXES.find(prefix => name.startsWith(prefix))
}

export function checkQueueNameAllowed(name: string): void {
  const prefix = reservedQueuePrefixOf(name)
  if (prefix !== undefined) throw accessRefused(`queue name '${name}' contains reserved prefix '${prefix}*'`)
}

export function checkExchangeNameAllowed(name: string): void {
  if (name.startsWith('amq.')) throw accessRefused(`exchange name '${name}' contains reserved prefix 'amq.*'`)
}

/** A server-named queue, as RabbitMQ names them: amq.gen-<22 url-safe base64 characters>. */
export function serverNamedQueue(): string {
  return 'amq.gen-' + randomBytes(16).toString('base64url')
}
