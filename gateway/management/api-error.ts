// Errors of the management API as HTTP answers, RabbitMQ's way: {"error": ..., "reason": ...}, with
// the status. A core BrokerError keeps its message and gets the status its kind means over HTTP.
import { isBrokerError, type BrokerErrorKind } from '../../core/errors.ts'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

export const badRequest = (reason: string): ApiError => new ApiError(400, reason)
export const notFoundError = (reason: string): ApiError => new ApiError(404, reason)

const statusByKind: Record<BrokerErrorKind, number> = {
  'not-found': 404,
  'precondition-failed': 400,
  'resource-locked': 400,
  'access-refused': 403,
  'not-allowed': 400,
  'not-implemented': 400,
  'invalid-request': 400,
  'resource-error': 400,
  internal: 500
}

const errorNames: Record<number, string> = {
  400: 'bad_request',
  401: 'not_authorised',
  403: 'access_refused',
  404: 'not_found',
  405: 'method_not_allowed',
  500: 'internal_error'
}

/** The status and JSON body of a failure; undefined when it is neither an ApiError nor a BrokerError (a bug: 500). */
export function errorReply(err: unknown): { status: number; body: { error: string; reason: string } } | undefined {
  let status: number
  if (err instanceof ApiError) status = err.status
  else if (isBrokerError(err)) status = statusByKind[err.kind]
  else return undefined
  return { status, body: { error: errorNames[status] ?? 'error', reason: (err as Error).message } }
}
