// Diagnosis and metering for the composition root: the lag sampler behind /api/diagnose, the node's
// conditions it reads (disk watermark, bridges, publish rate limits, the object store), and the periodic
// usage records put beside the segments. /api/diagnose and /api/usage are served from here.
import { hostname } from 'node:os'
import type { WharfConfig } from '../edge-config/config-types.ts'
import type { Logger } from '../core/logger.ts'
import type { Clock } from '../core/clock.ts'
import type { Broker } from '../core/model/broker.ts'
import type { Queue } from '../core/model/queue.ts'
import type { DiskWatermark } from '../core/storage/disk-watermark.ts'
import type { HeapWatermark } from '../core/limits/heap-watermark.ts'
import type { AbuseLimits } from '../core/limits/abuse-limits.ts'
import type { UsageMeter } from '../core/metering/usage-meter.ts'
import { storedBytesByVhost } from '../core/metering/stored-bytes.ts'
import { UsageRecorder } from '../core/metering/usage-recorder.ts'
import { LagSampler } from '../core/diagnosis/lag-sampler.ts'
import { backlogOf } from '../core/diagnosis/queue-backlog.ts'
import { diagnose, type Diagnosis } from '../core/diagnosis/diagnose.ts'
import type { NodeConditions } from '../core/diagnosis/node-findings.ts'
import type { MqttAdapter } from '../adapters/mqtt/mqtt-adapter.ts'
import type { AmqpAdapter } from '../adapters/amqp/amqp-adapter.ts'
import type { Tiering } from './tiering-wiring.ts'
import type { BridgeStatus } from '../adapters/bridge/bridge-status.ts'
import type { BridgeFacts } from '../core/diagnosis/bridge-facts.ts'
import { usageReport } from './usage-report.ts'

/** Shutdown waits this long at most for the last usage record (an unreachable store must not hold it). */
const LAST_RECORD_TIMEOUT_MS = 5000

export interface OpsParts {
  readonly config: WharfConfig
  readonly broker: Broker
  readonly usage: UsageMeter
  readonly mqtt: MqttAdapter
  readonly amqp: AmqpAdapter
  readonly disk: DiskWatermark
  readonly heap: HeapWatermark
  readonly bridges: () => readonly BridgeStatus[]
  readonly limits: AbuseLimits
  readonly tiering: Tiering
  readonly clock: Clock
  readonly logger: Logger
}

export interface Ops {
  diagnose(): Diagnosis
  usage(): Record<string, unknown>
  close(): Promise<void>
}

export function startOps(p: OpsParts): Ops {
  const { config, broker, clock } = p
  const sampler = new LagSampler<Queue>({
    clock,
    intervalMs: config.diagnose.sampleIntervalSeconds * 1000,
    samplesMax: config.diagnose.samplesMax,
    // Keyed by the queue itself: a queue declared again under its name is a new series.
    backlogs: visit => {
      broker.forEachQueue(q => visit(q, backlogOf(q)))
    }
  })
  sampler.start()
  const node = config.metering.node ?? hostname().replace(/[^A-Za-z0-9._-]/g, '_')
  const recorder =
    config.metering.recordIntervalSeconds === 0
      ? null
      : new UsageRecorder({
          meter: p.usage,
          stored: () => storedBytesByVhost(broker),
          store: p.tiering.objectStore,
          clock,
          intervalMs: config.metering.recordIntervalSeconds * 1000,
          node,
          keyPrefix: '',
          logger: p.logger.child({ component: 'metering' })
        })
  recorder?.start()

  const conditions = (): NodeConditions => {
    const disk = p.disk.status()
    const heap = p.heap.status()
    const tiering = p.tiering.manager.status()
    return {
      nowMs: clock.nowMs(),
      disk: {
        blocked: disk.blocked,
        bytes: disk.bytes,
        localBytesMax: disk.localBytesMax,
        refusedPublishes: p.mqtt.refusedPublishes,
        blockedConnections: p.amqp.blockedPublishers()
      },
      memory: { blocked: heap.blocked, liveBytes: heap.liveBytes, heapBytesMax: heap.heapBytesMax },
      bridges: p.bridges().map(bridgeFacts),
      throttled: [...p.limits.publish.paused].map(t => ({ protocol: t.protocol, username: t.username, limit: t.lastLimit })),
      objectStore: {
        description: p.tiering.objectStore.description,
        lastError: tiering.lastError,
        nextRetryAtMs: tiering.nextRetryAtMs,
        backlogSegments: tiering.backlogSegments,
        backlogBytes: tiering.backlogBytes,
        uploadFailures: tiering.uploadFailures
      }
    }
  }

  return {
    diagnose: () => diagnose(broker, sampler, conditions(), { redeliveriesMin: config.diagnose.redeliveriesMin }),
    usage: () => usageReport(node, p.usage.rows(), storedBytesByVhost(broker), recorder?.status() ?? null),
    close: async () => {
      sampler.stop()
      if (recorder === null) return
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<void>(resolve => {
        timer = setTimeout(resolve, LAST_RECORD_TIMEOUT_MS)
      })
      await Promise.race([recorder.stop(), timeout])
      clearTimeout(timer)
    }
  }
}

function bridgeFacts(s: BridgeStatus): BridgeFacts {
  return {
    name: s.name,
    url: s.url,
    state: s.state,
    lastError: s.lastError,
    vhost: s.vhost,
    queue: s.queue,
    backlogMessages: s.backlog.messages,
    backlogBytes: s.backlog.bytes,
    backlogBytesMax: s.backlog.bytesMax,
    policy: s.backlog.policy,
    inflightMessages: s.backlog.inflightMessages,
    windowMax: s.backlog.windowMax,
    confirmedPerSecond: s.confirmedPerSecond,
    blockingPublishers: s.backlog.blockingPublishers
  }
}
