// Queue arguments (x-*) parsed into the policy a queue runs with, validated as RabbitMQ does:
// a bad value refuses the declare with precondition-failed "invalid arg '<name>' for queue ...".
import { preconditionFailed } from '../errors.ts'
import type { Arguments } from './message.ts'

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx'

export interface QueuePolicy {
  readonly messageTtlMs: number | undefined
  readonly expiresMs: number | undefined
  readonly maxLength: number | undefined
  readonly maxLengthBytes: number | undefined
  readonly overflow: Overflow
  readonly deadLetterExchange: string | undefined
  readonly deadLetterRoutingKey: string | undefined
  readonly maxPriority: number | undefined
  /** x-single-active-consumer: only the longest-attached consumer gets deliveries. */
  readonly singleActiveConsumer: boolean
  /**
   * x-wharf-idle-bounds (a Wharf extension): x-max-length(-bytes) apply only while the queue has no
   * consumer, so a connected consumer slower than its publishers still gets everything (credit-based
   * delivery). MQTT session queues use it: their limits are offline-session limits.
   */
  readonly boundsOnlyWhenIdle: boolean
  /**
   * x-delivery-limit (quorum queues only): an entry given back more times than this is
   * dead-lettered with reason delivery_limit (dropped without a dead-letter exchange).
   */
  readonly deliveryLimit: number | undefined
}

export type Check = (value: unknown) => string | undefined

export const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  v => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return `expected an integer, got ${describe(v)}`
    if (v < min) return min === 1 ? `value must be positive, got ${v}` : `value must be at least ${min}, got ${v}`
    if (v > max) return `value must be at most ${max}, got ${v}`
    return undefined
  }
const oneOf =
  (...values: string[]): Check =>
  v =>
    typeof v === 'string' && values.includes(v) ? undefined : `expected one of ${values.join(', ')}, got ${describe(v)}`
const text: Check = v => (typeof v === 'string' ? undefined : `expected a string, got ${describe(v)}`)
const bool: Check = v => (typeof v === 'boolean' ? undefined : `expected a boolean, got ${describe(v)}`)

const CHECKS: Readonly<Record<string, Check>> = {
  'x-expires': integer(1),
  'x-message-ttl': integer(0),
  'x-max-length': integer(0),
  'x-max-length-bytes': integer(0),
  'x-overflow': oneOf('drop-head', 'reject-publish', 'reject-publish-dlx'),
  'x-dead-letter-exchange': text,
  'x-dead-letter-routing-key': text,
  'x-max-priority': integer(0, 255),
  'x-single-active-consumer': bool,
  'x-queue-mode': oneOf('default', 'lazy'),
  'x-wharf-idle-bounds': bool
}

// Queues declared with the same (frozen) arguments object share one policy: an adapter that makes
// thousands of queues alike (MQTT sessions) pays for one.
const sharedPolicies = new WeakMap<Arguments, QueuePolicy>()

/** Validates known arguments (unknown ones are kept and ignored, as RabbitMQ does). */
export function queuePolicy(args: Arguments, queueDescription: string): QueuePolicy {
  const shared = Object.isFrozen(args) ? sharedPolicies.get(args) : undefined
  if (shared !== undefined) return shared
  const policy = buildPolicy(args, queueDescription)
  if (Object.isFrozen(args)) sharedPolicies.set(args, Object.freeze(policy))
  return policy
}

/** Refuses the first argument present that fails its check: precondition-failed "invalid arg ...". */
export function checkArguments(args: Arguments, checks: Readonly<Record<string, Check>>, queueDescription: string): void {
  for (const [name, check] of Object.entries(checks)) {
    const value = args[name]
    if (value === undefined) continue
    const problem = check(value)
    if (problem !== undefined) throw preconditionFailed(`invalid arg '${name}' for ${queueDescription}: ${problem}`)
  }
}

function buildPolicy(args: Arguments, queueDescription: string): QueuePolicy {
  checkArguments(args, CHECKS, queueDescription)
  if (args['x-dead-letter-routing-key'] !== undefined && args['x-dead-letter-exchange'] === undefined) {
    throw preconditionFailed(`invalid arg 'x-dead-letter-routing-key' for ${queueDescription}: routing_key_but_no_dlx_defined`)
  }
  const num = (name: string): number | undefined => args[name] as number | undefined
  const str = (name: string): string | undefined => args[name] as string | undefined
  return {
    messageTtlMs: num('x-message-ttl'),
    expiresMs: num('x-expires'),
    maxLength: num('x-max-length'),
    maxLengthBytes: num('x-max-length-bytes'),
    overflow: (str('x-overflow') ?? 'drop-head') as Overflow,
    deadLetterExchange: str('x-dead-letter-exchange'),
    deadLetterRoutingKey: str('x-dead-letter-routing-key'),
    maxPriority: num('x-max-priority'),
    singleActiveConsumer: args['x-single-active-consumer'] === true,
    boundsOnlyWhenIdle: args['x-wharf-idle-bounds'] === true,
    deliveryLimit: undefined
  }
}

/**
 * A consumer's x-priority (RabbitMQ's consumer priorities; 0 without it). As RabbitMQ, any integer,
 * negative too; anything else refuses the consume with precondition-failed.
 */
export function consumerPriority(args: Arguments, queueDescription: string): number {
  const v = args['x-priority']
  if (v === undefined) return 0
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw preconditionFailed(`invalid arg 'x-priority' for ${queueDescription}: expected an integer, got ${describe(v)}`)
  return v
}

export function describe(v: unknown): string {
  if (Buffer.isBuffer(v)) return `bytes ${JSON.stringify(v.toString('latin1'))}`
  if (typeof v === 'string') return `'${v}'`
  if (v === undefined) return 'none'
  if (v === null) return 'void'
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}
