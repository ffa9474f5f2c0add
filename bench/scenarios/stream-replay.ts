import { checkShape } from '../workers/stream-payload.ts'
import { WorkerGroup } from '../workers/worker-process.ts'
import type { Scenario, ScenarioContext, ScenarioOutcome, ScenarioSettings } from './scenario.ts'
import { publishFigures, replayFigures, tieredFigures, tieredNotes } from './stream-replay-figures.ts'
import { publishFailuresOf, publishStream, replayFailures, replayStream, type ReplayWorkload } from './stream-replay-phases.ts'
import { brokerProduct, declareFreshStream, deleteStream } from './stream-queue.ts'
import { runTieredReplay, type SegmentPlan } from './stream-replay-tiered.ts'

const NAME = 'stream-replay'
const MIN_PAYLOAD_BYTES = 64
const PREFETCH = 1000
const ACK_EVERY = 100
const grouped = new Intl.NumberFormat('en-US')

/**
 * The 1 MiB segments (256 KiB blocks); a stream under 16 MiB (--quick) gets 64 KiB segments
 * of 16 KiB blocks instead, so that it still spans many objects of several blocks each.
 */
function segmentPlan(settings: ScenarioSettings): SegmentPlan {
  const small = (settings.messages * (MIN_PAYLOAD_BYTES + settings.payloadBytes)) / 2 < 16 * 1024 * 1024
  return {
    segmentBytes: small ? 65_536 : 1_048_576,
    blockBytes: small ? 16_384 : 262_144,
    offloadTimeoutMs: 60_000 + settings.messages
  }
}

function workload(settings: ScenarioSettings, hardTimeoutMs: number): ReplayWorkload {
  const shape = { minBytes: MIN_PAYLOAD_BYTES, maxBytes: settings.payloadBytes }
  checkShape(shape)
  return {
    queue: `wharf-bench-${NAME}`,
    messages: settings.messages,
    shape,
    inflight: settings.inflight,
    prefetch: PREFETCH,
    ackEvery: ACK_EVERY,
    hardTimeoutMs
  }
}

/** Wharf: s3rver on loopback, a Wharf of the scenario's own, hot replay, restart, offload, cold replay. */
async function runOnWharf(context: ScenarioContext, work: ReplayWorkload): Promise<ScenarioOutcome> {
  const run = await runTieredReplay(work, segmentPlan(context.settings), context.signal)
  const failures = [
    ...publishFailuresOf(run.published),
    ...replayFailures(run.hot, 'hot', run.published.confirmed),
    ...replayFailures(run.cold, 'cold', run.published.confirmed)
  ]
  if (run.hotTiering.uploadedSegments > 0) failures.push(`hot replay was not all local: ${run.hotTiering.uploadedSegments} segments offloaded before it`)
  const coldGets = run.coldTiering.requests.gets - run.offloaded.requests.gets
  if (coldGets === 0) failures.push('cold replay made no GET: it was not read from the object store')
  const figures = [
    ...publishFigures(run.published),
    ...replayFigures(run.hot, 'hot', run.published.confirmed),
    ...replayFigures(run.cold, 'cold', run.published.confirmed),
    ...tieredFigures(run)
  ]
  const lost = Math.max(run.published.confirmed - run.hot.unique, run.published.confirmed - run.cold.unique)
  return { figures, lost, duplicates: run.hot.duplicates + run.cold.duplicates, failures, notes: tieredNotes(run) }
}

/** A broker without a cold tier (RabbitMQ streams): the hot replay only, on the broker the harness started. */
async function runHotOnly(context: ScenarioContext, work: ReplayWorkload, product: string): Promise<ScenarioOutcome> {
  const group = new WorkerGroup(context.signal)
  try {
    await declareFreshStream(context.url, work.queue)
    const published = await publishStream(group, context.url, work)
    const hot = await replayStream(group, context.url, 'hot', work)
    const failures = [...publishFailuresOf(published), ...replayFailures(hot, 'hot', published.confirmed)]
    const figures = [...publishFigures(published), ...replayFigures(hot, 'hot', published.confirmed)]
    const notes = [`${product} has no cold tier: only the hot replay is measured`]
    return { figures, lost: published.confirmed - hot.unique, duplicates: hot.duplicates, failures, notes }
  } finally {
    await group.dispose()
    await deleteStream(context.url, work.queue).catch(() => {})
  }
}

/**
 * Replay of a stream queue from the hot tier (SQLite) and from the cold tier (S3 on loopback,
 * ranged GETs through the block cache), and what the object store holds per payload byte.
 */
export const streamReplay: Scenario = {
  name: NAME,
  protocol: 'amqp',
  summary: 'stream queue replayed from first: hot tier (local) vs cold tier (S3 on loopback) msg/s, stored bytes per payload byte',
  defaults: quick => ({
    messages: quick ? 5000 : 200_000,
    durationS: 60,
    ratePerS: 1000,
    inflight: 500,
    payloadBytes: 256,
    publishers: 1,
    consumers: 1
  }),
  fixedSettings: ['durationS', 'ratePerS', 'publishers', 'consumers'],
  describe: settings => {
    const segments = segmentPlan(settings)
    return (
      `${grouped.format(settings.messages)} persistent messages of ${MIN_PAYLOAD_BYTES}..${settings.payloadBytes} random bytes, 1 publisher with ` +
      `confirms (${settings.inflight} in flight); 1 consumer from x-stream-offset first, prefetch ${PREFETCH}, ack multiple every ${ACK_EVERY}; ` +
      `Wharf: ${segments.segmentBytes / 1024} KiB segments, ${segments.blockBytes / 1024} KiB blocks, s3rver on 127.0.0.1`
    )
  },
  timeoutMs: settings => 120_000 + settings.messages * 2,
  async run(context) {
    const work = workload(context.settings, this.timeoutMs(context.settings) + 5000)
    const product = await brokerProduct(context.url)
    return product === 'Wharf' ? runOnWharf(context, work) : runHotOnly(context, work, product)
  }
}
