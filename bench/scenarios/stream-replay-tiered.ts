import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startS3Server } from '../../test/support/s3-server.ts'
import { withProcessCpu } from '../brokers/process-cpu.ts'
import { readProcessMemory, type ProcessMemory } from '../brokers/process-memory.ts'
import { startTieredWharf, type S3Target, type TieredWharf, type TieredWharfOptions } from '../brokers/wharf-tiered.ts'
import type { StreamPublishResult, StreamReplayResult } from '../workers/stream-replay-messages.ts'
import { WorkerGroup } from '../workers/worker-process.ts'
import { bucketUsage, type BucketUsage } from './bucket-usage.ts'
import { publishStream, replayStream, type ReplayWorkload } from './stream-replay-phases.ts'
import { declareFreshStream } from './stream-queue.ts'
import { readTiering, waitForTiering, type TieringSnapshot } from './tiering-admin.ts'

/** Segment sizes of a run: small, so that even a short run offloads many objects of several blocks. */
export interface SegmentPlan {
  readonly segmentBytes: number
  readonly blockBytes: number
  readonly offloadTimeoutMs: number
}

/** Everything measured on Wharf: the hot replay (all local), then the cold one (all in S3). */
export interface TieredReplay {
  readonly published: StreamPublishResult
  readonly hot: StreamReplayResult
  readonly hotTiering: TieringSnapshot
  readonly hotMemory: ProcessMemory | undefined
  /** Broker CPU time (user + system) over the replay; undefined where /proc is not readable. */
  readonly hotCpuMs: number | undefined
  /** After the restart, once everything is offloaded and before the cold replay. */
  readonly offloaded: TieringSnapshot
  readonly cold: StreamReplayResult
  readonly coldTiering: TieringSnapshot
  readonly coldMemory: ProcessMemory | undefined
  readonly coldCpuMs: number | undefined
  readonly bucket: BucketUsage
  readonly offloadMs: number
}

const BUCKET = 'wharf-bench'
const PREFIX = 'bench'
const CHECK_INTERVAL_MS = 200
/** Phase 1 keeps everything local; phase 2 seals the open segment at once and offloads all. */
const HOT_LOCAL_AGE_S = 86_400

function configYaml(segments: SegmentPlan): string {
  return [
    'streams:',
    `  segmentBytes: ${segments.segmentBytes}`,
    `  blockBytes: ${segments.blockBytes}`,
    'tiering:',
    `  checkIntervalMs: ${CHECK_INTERVAL_MS}`,
    ''
  ].join('\n')
}

/**
 * s3rver on loopback, Wharf tiering to it: publish, replay hot; restart Wharf with
 * tiering.localAgeSeconds 0 (and a 1 s segment age, so the open segment seals too), wait until
 * /api/tiering shows nothing left locally, replay cold; then list the bucket.
 */
export async function runTieredReplay(work: ReplayWorkload, segments: SegmentPlan, signal: AbortSignal): Promise<TieredReplay> {
  const s3server = await startS3Server({ bucket: BUCKET })
  const s3: S3Target = { endpoint: s3server.endpoint, bucket: BUCKET, prefix: PREFIX, ...s3server.credentials }
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-bench-stream-'))
  const group = new WorkerGroup(signal)
  let wharf: TieredWharf | undefined
  const start = async (env: TieredWharfOptions['env']): Promise<TieredWharf> => {
    signal.throwIfAborted()
    wharf = await startTieredWharf({ dataDir, s3, configYaml: configYaml(segments), env })
    return wharf
  }
  try {
    const hotWharf = await start({ WHARF_TIERING_LOCAL_AGE_SECONDS: String(HOT_LOCAL_AGE_S) })
    await declareFreshStream(hotWharf.amqpUrl, work.queue)
    const published = await publishStream(group, hotWharf.amqpUrl, work)
    const { result: hot, cpuMs: hotCpuMs } = await withProcessCpu(hotWharf.pid, () => replayStream(group, hotWharf.amqpUrl, 'hot', work))
    const hotTiering = await readTiering(hotWharf.adminUrl)
    const hotMemory = hotWharf.pid === undefined ? undefined : readProcessMemory(hotWharf.pid)
    await hotWharf.stop()
    wharf = undefined

    const offloadStartMs = Date.now()
    const coldWharf = await start({ WHARF_TIERING_LOCAL_AGE_SECONDS: '0', WHARF_SEGMENT_AGE_SECONDS: '1' })
    // A failed upload is retried with backoff; one that never succeeds shows in the timeout's snapshot.
    const offloaded = await waitForTiering(
      coldWharf.adminUrl,
      'all offloaded',
      segments.offloadTimeoutMs,
      signal,
      t => t.uploadedSegments > 0 && t.backlogSegments === 0 && t.localStreamBytes === 0
    )
    const offloadMs = Date.now() - offloadStartMs
    const { result: cold, cpuMs: coldCpuMs } = await withProcessCpu(coldWharf.pid, () => replayStream(group, coldWharf.amqpUrl, 'cold', work))
    const coldTiering = await readTiering(coldWharf.adminUrl)
    const coldMemory = coldWharf.pid === undefined ? undefined : readProcessMemory(coldWharf.pid)
    const bucket = await bucketUsage(s3)
    return { published, hot, hotTiering, hotMemory, hotCpuMs, offloaded, cold, coldTiering, coldMemory, coldCpuMs, bucket, offloadMs }
  } finally {
    await group.dispose()
    await (wharf as TieredWharf | undefined)?.stop()
    await s3server.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
