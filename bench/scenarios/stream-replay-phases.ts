import type { PayloadShape } from '../workers/stream-payload.ts'
import type { StreamPublisherConfig } from '../workers/stream-publisher.ts'
import { publishResultOf, replayResultOf, type StreamPublishResult, type StreamReplayResult } from '../workers/stream-replay-messages.ts'
import type { StreamReplayConfig } from '../workers/stream-replay-consumer.ts'
import type { WorkerGroup } from '../workers/worker-process.ts'

/** The workload of one stream-replay run, the same for the hot and the cold replay. */
export interface ReplayWorkload {
  readonly queue: string
  readonly messages: number
  readonly shape: PayloadShape
  readonly inflight: number
  readonly prefetch: number
  readonly ackEvery: number
  readonly hardTimeoutMs: number
}

const STREAM_PUBLISHER = new URL('../workers/stream-publisher.ts', import.meta.url)
const STREAM_REPLAY_CONSUMER = new URL('../workers/stream-replay-consumer.ts', import.meta.url)
/** A cold read waits on a GET: quiet this long before what is missing counts as lost. */
const REPLAY_SETTLE_MS = 10_000

/** One publisher process fills the stream with confirms. */
export async function publishStream(group: WorkerGroup, url: string, work: ReplayWorkload): Promise<StreamPublishResult> {
  const config: StreamPublisherConfig = {
    url,
    queue: work.queue,
    messages: work.messages,
    inflight: work.inflight,
    shape: work.shape,
    hardTimeoutMs: work.hardTimeoutMs
  }
  const worker = group.spawn('stream publisher', STREAM_PUBLISHER, config)
  await worker.next('ready')
  worker.send({ type: 'start' })
  const result = publishResultOf(await worker.next('result'))
  await worker.stop()
  return result
}

/** One consumer process replays the stream from `first` and checks every delivery. */
export async function replayStream(group: WorkerGroup, url: string, label: string, work: ReplayWorkload): Promise<StreamReplayResult> {
  const config: StreamReplayConfig = {
    url,
    name: `wharf-bench-stream-replay-${label}`,
    queue: work.queue,
    messages: work.messages,
    prefetch: work.prefetch,
    ackEvery: work.ackEvery,
    shape: work.shape,
    settleMs: REPLAY_SETTLE_MS,
    hardTimeoutMs: work.hardTimeoutMs
  }
  const worker = group.spawn(`${label} replay consumer`, STREAM_REPLAY_CONSUMER, config)
  await worker.next('ready')
  worker.send({ type: 'start' })
  const result = replayResultOf(await worker.next('result'))
  await worker.stop()
  return result
}

/** Messages per second from basic.consume to the last delivery (the wait for the first one included). */
export function replayRatePerS(r: StreamReplayResult): number {
  return r.unique === 0 ? 0 : r.unique / Math.max((r.lastMs - r.consumeMs) / 1000, 0.001)
}

/** Broken guarantees of one replay: every message once, in publish order, unaltered. */
export function replayFailures(r: StreamReplayResult, label: string, expected: number): string[] {
  const failures: string[] = []
  if (r.unique < expected) failures.push(`${label} replay: ${expected - r.unique} of ${expected} messages never delivered`)
  if (r.duplicates > 0) failures.push(`${label} replay: ${r.duplicates} messages delivered more than once`)
  if (r.outOfOrder > 0) failures.push(`${label} replay: ${r.outOfOrder} deliveries out of publish order`)
  if (r.corrupt > 0) failures.push(`${label} replay: ${r.corrupt} payloads differ from what was published`)
  if (r.unexpected > 0) failures.push(`${label} replay: ${r.unexpected} deliveries not from this run's publisher`)
  return failures
}

export function publishFailuresOf(p: StreamPublishResult): string[] {
  const failures: string[] = []
  if (p.nacked > 0) failures.push(`publish: ${p.nacked} messages nacked by the broker`)
  if (p.confirmed + p.nacked < p.sent) failures.push(`publish: ${p.sent - p.confirmed - p.nacked} of ${p.sent} never confirmed`)
  return failures
}
