// The one error catalog of the broker core. Core code throws BrokerError with a kind; each
// adapter maps kinds to its protocol's codes in one table (AMQP reply codes, MQTT return codes).
// Messages name the operation and the object, RabbitMQ style: "no queue 'q' in vhost '/'".

export type BrokerErrorKind =
  /** The named vhost, exchange, queue or consumer does not exist. */
  | 'not-found'
  /** The request contradicts existing state: redeclare with other properties, if-unused, bad argument. */
  | 'precondition-failed'
  /** Another owner holds the object exclusively (an exclusive queue of another connection). */
  | 'resource-locked'
  /** The caller may not do this: reserved names, internal exchanges, exclusive consumers, permissions. */
  | 'access-refused'
  /** The operation is not allowed in the caller's state (vhost refused, a reused consumer tag). */
  | 'not-allowed'
  /** The broker does not implement this variant of the operation. */
  | 'not-implemented'
  /** The request names something the broker does not know (an unknown exchange type). */
  | 'invalid-request'
  /** A configured limit is exhausted (connections, channels, queue length with reject-publish). */
  | 'resource-error'
  /** A broken invariant inside the broker. */
  | 'internal'

export class BrokerError extends Error {
  override readonly name = 'BrokerError'
  readonly kind: BrokerErrorKind

  constructor(kind: BrokerErrorKind, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.kind = kind
  }
}

export const notFound = (message: string): BrokerError => new BrokerError('not-found', message)
export const preconditionFailed = (message: string): BrokerError => new BrokerError('precondition-failed', message)
export const resourceLocked = (message: string): BrokerError => new BrokerError('resource-locked', message)
export const accessRefused = (message: string): BrokerError => new BrokerError('access-refused', message)
export const notAllowed = (message: string): BrokerError => new BrokerError('not-allowed', message)
export const notImplemented = (message: string): BrokerError => new BrokerError('not-implemented', message)
export const invalidRequest = (message: string): BrokerError => new BrokerError('invalid-request', message)
export const resourceError = (message: string): BrokerError => new BrokerError('resource-error', message)
export const internalError = (message: string, cause?: unknown): BrokerError => new BrokerError('internal', message, { cause })

export function isBrokerError(err: unknown): err is BrokerError {
  return err instanceof BrokerError
}
