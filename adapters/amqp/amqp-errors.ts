// AMQP exceptions and the one table from core error kinds to reply codes. Whether an exception
// closes the channel (soft) or the connection (hard) follows from its code (reply-codes.ts).
import { isBrokerError, type BrokerErrorKind } from '../../core/errors.ts'
import { AmqpCodecError } from './codec/codec-error.ts'
import {
  ACCESS_REFUSED,
  COMMAND_INVALID,
  INTERNAL_ERROR,
  NOT_ALLOWED,
  NOT_FOUND,
  NOT_IMPLEMENTED,
  PRECONDITION_FAILED,
  RESOURCE_ERROR,
  RESOURCE_LOCKED,
  formatReplyText,
  isConnectionException
} from './codec/reply-codes.ts'

export const replyCodeOfKind: Readonly<Record<BrokerErrorKind, number>> = {
  'not-found': NOT_FOUND,
  'precondition-failed': PRECONDITION_FAILED,
  'resource-locked': RESOURCE_LOCKED,
  'access-refused': ACCESS_REFUSED,
  'not-allowed': NOT_ALLOWED,
  'not-implemented': NOT_IMPLEMENTED,
  'invalid-request': COMMAND_INVALID,
  'resource-error': RESOURCE_ERROR,
  internal: INTERNAL_ERROR
}

/** An exception raised while handling a method: reply code, text and the method it concerns. */
export class AmqpException extends Error {
  override readonly name = 'AmqpException'
  constructor(
    readonly replyCode: number,
    detail: string,
    readonly methodId = 0
  ) {
    super(detail)
  }

  get hard(): boolean {
    return isConnectionException(this.replyCode)
  }
  get replyText(): string {
    return formatReplyText(this.replyCode, this.message)
  }
  get classId(): number {
    return this.methodId >>> 16
  }
  get methodIdInClass(): number {
    return this.methodId & 0xffff
  }
}

/** Any error thrown while handling `methodId` as the exception to close with. */
export function toAmqpException(err: unknown, methodId: number): AmqpException {
  if (err instanceof AmqpException) return err.methodId === 0 && methodId !== 0 ? new AmqpException(err.replyCode, err.message, methodId) : err
  if (isBrokerError(err)) return new AmqpException(replyCodeOfKind[err.kind], err.message, methodId)
  if (err instanceof AmqpCodecError) return new AmqpException(err.replyCode, err.message, (err.classId << 16) | err.methodId || methodId)
  return new AmqpException(INTERNAL_ERROR, `internal error: ${err instanceof Error ? err.message : String(err)}`, methodId)
}
