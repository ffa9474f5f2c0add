// AMQP 0-9-1 reply codes (spec §1.2 "constants"). A "soft-error" closes the channel
// (channel.close), a "hard-error" closes the connection (connection.close).

export const REPLY_SUCCESS = 200
export const CONTENT_TOO_LARGE = 311
export const NO_ROUTE = 312
export const NO_CONSUMERS = 313
export const CONNECTION_FORCED = 320
export const INVALID_PATH = 402
export const ACCESS_REFUSED = 403
export const NOT_FOUND = 404
export const RESOURCE_LOCKED = 405
export const PRECONDITION_FAILED = 406
export const FRAME_ERROR = 501
export const SYNTAX_ERROR = 502
export const COMMAND_INVALID = 503
export const CHANNEL_ERROR = 504
export const UNEXPECTED_FRAME = 505
export const RESOURCE_ERROR = 506
export const NOT_ALLOWED = 530
export const NOT_IMPLEMENTED = 540
export const INTERNAL_ERROR = 541

/** 'reply' codes are not exceptions (200 in close-ok paths, 311-313 in basic.return). */
export type ReplyScope = 'reply' | 'channel' | 'connection'

export interface ReplyCodeInfo {
  readonly code: number
  readonly name: string
  readonly scope: ReplyScope
}

// scope follows the spec's class attribute: soft-error → channel, hard-error → connection.
// 311-313 are soft-errors in the spec but are normally sent in basic.return, so
// they are channel-scoped if ever raised as an exception.
const table: readonly ReplyCodeInfo[] = [
  { code: REPLY_SUCCESS, name: 'REPLY_SUCCESS', scope: 'reply' },
  { code: CONTENT_TOO_LARGE, name: 'CONTENT_TOO_LARGE', scope: 'channel' },
  { code: NO_ROUTE, name: 'NO_ROUTE', scope: 'channel' },
  { code: NO_CONSUMERS, name: 'NO_CONSUMERS', scope: 'channel' },
  { code: CONNECTION_FORCED, name: 'CONNECTION_FORCED', scope: 'connection' },
  { code: INVALID_PATH, name: 'INVALID_PATH', scope: 'connection' },
  { code: ACCESS_REFUSED, name: 'ACCESS_REFUSED', scope: 'channel' },
  { code: NOT_FOUND, name: 'NOT_FOUND', scope: 'channel' },
  { code: RESOURCE_LOCKED, name: 'RESOURCE_LOCKED', scope: 'channel' },
  { code: PRECONDITION_FAILED, name: 'PRECONDITION_FAILED', scope: 'channel' },
  { code: FRAME_ERROR, name: 'FRAME_ERROR', scope: 'connection' },
  { code: SYNTAX_ERROR, name: 'SYNTAX_ERROR', scope: 'connection' },
  { code: COMMAND_INVALID, name: 'COMMAND_INVALID', scope: 'connection' },
  { code: CHANNEL_ERROR, name: 'CHANNEL_ERROR', scope: 'connection' },
  { code: UNEXPECTED_FRAME, name: 'UNEXPECTED_FRAME', scope: 'connection' },
  { code: RESOURCE_ERROR, name: 'RESOURCE_ERROR', scope: 'connection' },
  { code: NOT_ALLOWED, name: 'NOT_ALLOWED', scope: 'connection' },
  { code: NOT_IMPLEMENTED, name: 'NOT_IMPLEMENTED', scope: 'connection' },
  { code: INTERNAL_ERROR, name: 'INTERNAL_ERROR', scope: 'connection' }
]

const byCode = new Map(table.map(info => [info.code, info]))

export const replyCodes: readonly ReplyCodeInfo[] = table

/** Undefined for a code the spec does not define. */
export function replyCodeInfo(code: number): ReplyCodeInfo | undefined {
  return byCode.get(code)
}

export function isConnectionException(code: number): boolean {
  return byCode.get(code)?.scope === 'connection'
}

export function isChannelException(code: number): boolean {
  return byCode.get(code)?.scope === 'channel'
}

const REPLY_TEXT_BYTES_MAX = 255 // reply-text is a shortstr

/**
 * RabbitMQ-style reply text, "NOT_FOUND - no queue 'q' in vhost '/'", cut to the
 * 255-byte shortstr limit on a UTF-8 character boundary (an over-long reply-text
 * would otherwise make the close method itself unencodable).
 */
export function formatReplyText(code: number, detail: string): string {
  const name = byCode.get(code)?.name ?? String(code)
  const text = detail === '' ? name : `${name} - ${detail}`
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length <= REPLY_TEXT_BYTES_MAX) return text
  let end = REPLY_TEXT_BYTES_MAX
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end-- // back off continuation bytes
  return bytes.toString('utf8', 0, end)
}
