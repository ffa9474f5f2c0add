// x-stream-offset of a stream consumer (basic.consume argument), as RabbitMQ reads it: 'first',
// 'last', 'next' (the default), an offset (any integer type), an AMQP timestamp (seconds, decoded
// as { '!': 'timestamp', value }), or an interval string ('1h': from one hour ago).
import { preconditionFailed } from '../errors.ts'
import { describe } from '../model/queue-arguments.ts'
import { intervalMs } from './stream-interval.ts'

export type StreamStart =
  | { readonly kind: 'first' }
  | { readonly kind: 'last' }
  | { readonly kind: 'next' }
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'timestamp'; readonly timestampMs: number }

/** Parses the argument; nowMs anchors interval strings. Bad values are precondition-failed (406). */
export function parseStreamOffset(value: unknown, nowMs: number, queueDescription: string): StreamStart {
  if (value === undefined) return { kind: 'next' }
  const bad = (why: string): Error => preconditionFailed(`invalid x-stream-offset ${describe(value)} for ${queueDescription}: ${why}`)
  if (typeof value === 'string') {
    if (value === 'first' || value === 'last' || value === 'next') return { kind: value }
    const ms = intervalMs(value)
    if (ms === undefined) throw bad("expected 'first', 'last', 'next', an offset, a timestamp or an interval such as '1h' (units Y, M, D, h, m, s)")
    return { kind: 'timestamp', timestampMs: nowMs - ms }
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw bad('an offset must be a non-negative integer')
    return { kind: 'offset', offset: value }
  }
  if (isTimestamp(value)) {
    const seconds = value.value
    if (!Number.isSafeInteger(seconds) || seconds < 0) throw bad('a timestamp must be non-negative seconds since the epoch')
    return { kind: 'timestamp', timestampMs: seconds * 1000 }
  }
  throw bad("expected 'first', 'last', 'next', an offset, a timestamp or an interval such as '1h'")
}

function isTimestamp(v: unknown): v is { '!': 'timestamp'; value: number } {
  return v !== null && typeof v === 'object' && (v as Record<string, unknown>)['!'] === 'timestamp' && typeof (v as Record<string, unknown>).value === 'number'
}
