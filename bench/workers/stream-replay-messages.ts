import type { ChildMessage } from './worker-messages.ts'

/**
 * Results of the stream-replay workers. They travel as the `result` of the usual worker protocol
 * (worker-messages.ts) but are not in its WorkerResult union, so that the scenario adds files
 * only: the parent takes them back through the kind checks below, not a blind cast.
 */
export interface StreamPublishResult {
  readonly kind: 'stream-publisher'
  readonly sent: number
  readonly confirmed: number
  readonly nacked: number
  readonly payloadBytes: number
  readonly startMs: number
  /** The last confirm (CLOCK_MONOTONIC ms). */
  readonly endMs: number
}

export interface StreamReplayResult {
  readonly kind: 'stream-replay'
  readonly received: number
  /** Sequence numbers received at least once. */
  readonly unique: number
  readonly duplicates: number
  /** Deliveries whose sequence number was not the one after the previous delivery's. */
  readonly outOfOrder: number
  /** Payloads that differ from what their sequence number was published with. */
  readonly corrupt: number
  /** Beyond the published range, or too short to carry a sequence number. */
  readonly unexpected: number
  /** Just before basic.consume (CLOCK_MONOTONIC ms). */
  readonly consumeMs: number
  readonly firstMs: number
  readonly lastMs: number
}

export type StreamWorkerResult = StreamPublishResult | StreamReplayResult

/** What a stream worker hands to process.send. */
export function streamResultMessage(result: StreamWorkerResult): ChildMessage {
  return { type: 'result', result } as unknown as ChildMessage
}

function resultOf<K extends StreamWorkerResult['kind']>(message: ChildMessage, kind: K): Extract<StreamWorkerResult, { kind: K }> {
  const result: unknown = message.type === 'result' ? message.result : undefined
  if (typeof result !== 'object' || result === null || (result as { kind?: unknown }).kind !== kind) {
    throw new Error(`stream worker: expected a ${kind} result, got ${JSON.stringify(message).slice(0, 200)}`)
  }
  return result as Extract<StreamWorkerResult, { kind: K }>
}

export const publishResultOf = (message: ChildMessage): StreamPublishResult => resultOf(message, 'stream-publisher')
export const replayResultOf = (message: ChildMessage): StreamReplayResult => resultOf(message, 'stream-replay')
