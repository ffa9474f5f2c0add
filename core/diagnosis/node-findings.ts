// Causes that hold for the whole node: publishers refused at the disk or memory watermark, held by a bridge whose
// backlog reached its bound or by a publish rate limit, and the object store unreachable with the
// upload backlog growing behind it.
import { formatBytes } from '../storage/format-bytes.ts'
import type { BridgeFacts } from './bridge-facts.ts'
import type { Finding } from './finding.ts'

export interface NodeConditions {
  /** The disk watermark's reason while it refuses publishers, with its figures. */
  readonly disk: {
    readonly blocked: string | null
    readonly bytes: number
    readonly localBytesMax: number
    readonly refusedPublishes: number
    readonly blockedConnections: number
  }
  /** The memory watermark's reason while it refuses publishers, with its figures. */
  readonly memory: {
    readonly blocked: string | null
    readonly liveBytes: number
    readonly heapBytesMax: number
  }
  /** Every bridge: one whose backlog is over its bound (policy block) holds publishers. */
  readonly bridges: readonly BridgeFacts[]
  /** Connections whose reads a publish rate limit holds now. */
  readonly throttled: ReadonlyArray<{ readonly protocol: string; readonly username: string | null; readonly limit: string }>
  /** The tiering pipeline, or null when there is none. */
  readonly objectStore: {
    readonly description: string
    readonly lastError: string | null
    /** Set while uploads wait for a retry after a failure. */
    readonly nextRetryAtMs: number | null
    readonly backlogSegments: number
    readonly backlogBytes: number
    readonly uploadFailures: number
  } | null
  readonly nowMs: number
}

export function nodeFindings(n: NodeConditions): Finding[] {
  const out: Finding[] = []
  if (n.disk.blocked !== null) {
    out.push({
      cause: 'publishers-blocked-disk',
      summary: `publishers are refused at the disk watermark: ${n.disk.blocked} (${n.disk.blockedConnections} AMQP connections blocked, ${n.disk.refusedPublishes} MQTT publishes refused)`,
      suggestion: 'consume or purge the largest queues, let tiering offload (check the object store), or raise storage.localBytesMax if the disk has room',
      numbers: {
        bytes: n.disk.bytes,
        localBytesMax: n.disk.localBytesMax,
        blockedConnections: n.disk.blockedConnections,
        refusedPublishes: n.disk.refusedPublishes
      }
    })
  }
  if (n.memory.blocked !== null) {
    out.push({
      cause: 'publishers-blocked-memory',
      summary: `publishers are refused at the memory watermark: ${n.memory.blocked} (${n.disk.blockedConnections} AMQP connections blocked, ${n.disk.refusedPublishes} MQTT publishes refused)`,
      suggestion:
        'consume or purge the longest queues (every queued message is held in memory), bound them (x-max-length, mqtt.maxQueuedMessages, bridges[].backlogBytesMax), or give the process a larger heap (--max-old-space-size)',
      numbers: {
        liveBytes: n.memory.liveBytes,
        heapBytesMax: n.memory.heapBytesMax,
        blockedConnections: n.disk.blockedConnections,
        refusedPublishes: n.disk.refusedPublishes
      }
    })
  }
  for (const b of n.bridges) if (b.blockingPublishers) out.push(bridgeHold(b, n.disk))
  if (n.throttled.length > 0) {
    const limits = [...new Set(n.throttled.map(t => t.limit))]
    const users = [...new Set(n.throttled.map(t => t.username ?? '(anonymous)'))]
    out.push({
      cause: 'publishers-blocked-rate-limit',
      summary: `${n.throttled.length} publishing connections are held by a publish rate limit (${limits.join(', ')}; users ${users.join(', ')})`,
      suggestion: `the publishers send faster than ${limits.join(' / ')} allows: raise the limit, or slow or spread the publishers`,
      numbers: { connections: n.throttled.length, limits: limits.join(','), users: users.join(',') }
    })
  }
  const os = n.objectStore
  if (os !== null && os.nextRetryAtMs !== null && os.lastError !== null) {
    out.push({
      cause: 'object-store-unreachable',
      summary: `the object store ${os.description} fails (${os.lastError}); ${os.backlogSegments} segments (${os.backlogBytes} bytes) wait for upload, ${os.uploadFailures} uploads failed, next retry in ${Math.max(0, Math.round((os.nextRetryAtMs - n.nowMs) / 1000))} s`,
      suggestion: 'check tiering.url, the credentials and the network to the object store; data stays local until storage.localBytesMax refuses publishers',
      numbers: { backlogSegments: os.backlogSegments, backlogBytes: os.backlogBytes, uploadFailures: os.uploadFailures, lastError: os.lastError }
    })
  }
  return out
}

/** A bridge whose backlog reached bridges[].backlogBytesMax (policy block): why it does not drain. */
function bridgeHold(b: BridgeFacts, disk: NodeConditions['disk']): Finding {
  const link =
    b.state === 'connected'
      ? `its remote ${b.url} confirms ${b.confirmedPerSecond}/s`
      : `its link to ${b.url} is ${b.state}${b.lastError === null ? '' : ` (${b.lastError})`}`
  return {
    cause: 'publishers-blocked-bridge',
    summary: `publishers in vhost '${b.vhost}' are held by bridge ${b.name}: its backlog ${formatBytes(b.backlogBytes)} (${b.backlogMessages} messages) is over bridges[].backlogBytesMax ${formatBytes(b.backlogBytesMax)} and ${link} (${disk.blockedConnections} AMQP connections blocked, ${disk.refusedPublishes} MQTT publishes refused)`,
    suggestion:
      b.state === 'connected'
        ? `the remote takes less than the edge publishes: check the remote's load and the link's bandwidth, or raise bridges[].backlogBytesMax of '${b.name}'`
        : `bring the remote ${b.url} back or fix the link to it (publishers go again when the backlog is under 90% of its bound); backlogPolicy drop-oldest would drop instead of holding`,
    numbers: {
      bridge: b.name,
      vhost: b.vhost,
      state: b.state,
      lastError: b.lastError,
      backlogMessages: b.backlogMessages,
      backlogBytes: b.backlogBytes,
      backlogBytesMax: b.backlogBytesMax,
      confirmedPerSecond: b.confirmedPerSecond,
      blockedConnections: disk.blockedConnections,
      refusedPublishes: disk.refusedPublishes
    }
  }
}
