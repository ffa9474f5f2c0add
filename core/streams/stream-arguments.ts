// The declaration of a stream queue, checked as RabbitMQ's stream queue type does: durable, not
// exclusive, not auto-delete; the stream arguments (retention, segment size) valid. Arguments of the
// other queue types are refused before, on declare (queue-types/index.ts refuseOtherTypesArguments,
// with RabbitMQ's text), so a stream stored by an older Wharf that took one is still restored.
import { preconditionFailed } from '../errors.ts'
import type { Arguments } from '../model/message.ts'
import { describe } from '../model/queue-arguments.ts'
import { intervalMs } from './stream-interval.ts'

export interface StreamPolicy {
  /** x-max-age: sealed segments whose newest record is older go. */
  readonly maxAgeMs: number | undefined
  /** x-max-length-bytes: oldest sealed segments go while the stream (both tiers) holds more. */
  readonly maxLengthBytes: number | undefined
  /** x-stream-max-segment-size-bytes: this stream's segment size instead of streams.segmentBytes. */
  readonly segmentBytes: number | undefined
}

/** As RabbitMQ's ?MAX_STREAM_MAX_SEGMENT_SIZE. */
const SEGMENT_BYTES_MAX = 3_000_000_000

export interface StreamDeclare {
  readonly durable: boolean
  readonly exclusive: boolean
  readonly autoDelete: boolean
  readonly arguments: Arguments
}

/** Validates a stream declaration (also a stored one at restart) and returns its policy. */
export function streamPolicy(spec: StreamDeclare, queueDescription: string): StreamPolicy {
  const property = (name: string): Error => preconditionFailed(`invalid property '${name}' for ${queueDescription}`)
  if (spec.exclusive) throw property('exclusive')
  if (spec.autoDelete) throw property('auto-delete')
  if (!spec.durable) throw property('non-durable')
  const args = spec.arguments
  const invalid = (name: string, why: string): Error => preconditionFailed(`invalid arg '${name}' for ${queueDescription}: ${why}, got ${describe(args[name])}`)
  const maxAge = args['x-max-age']
  let maxAgeMs: number | undefined
  if (maxAge !== undefined) {
    maxAgeMs = typeof maxAge === 'string' ? intervalMs(maxAge) : undefined
    if (maxAgeMs === undefined) throw invalid('x-max-age', 'expected a positive integer and a unit Y, M, D, h, m or s (e.g. 7D)')
  }
  return {
    maxAgeMs,
    maxLengthBytes: integerArg(args, 'x-max-length-bytes', 0, Number.MAX_SAFE_INTEGER, invalid),
    segmentBytes: integerArg(args, 'x-stream-max-segment-size-bytes', 1, SEGMENT_BYTES_MAX, invalid)
  }
}

function integerArg(args: Arguments, name: string, min: number, max: number, invalid: (name: string, why: string) => Error): number | undefined {
  const v = args[name]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(name, `expected an integer from ${min} to ${max}`)
  return v
}
