// Causes that hold for the whole node: publishers refused at the disk watermark or held by a publish
// rate limit, and the object store unreachable with the upload backlog growing behind it.
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
  /** Other holds on publishers than the disk watermark: a bridge whose backlog reached its bound. */
  readonly otherHolds: ReadonlyArray<{ readonly source: string; readonly reason: string }>
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
  for (const h of n.otherHolds) {
    out.push({
      cause: 'publishers-blocked-bridge',
      summary: `publishers are refused by ${h.source}: ${h.reason} (${n.disk.blockedConnections} AMQP connections blocked, ${n.disk.refusedPublishes} MQTT publishes refused)`,
      suggestion:
        "the bridge cannot forward as fast as its input arrives: check the link to the remote broker and its state, or raise the bridge's backlog bound",
      numbers: { source: h.source, blockedConnections: n.disk.blockedConnections, refusedPublishes: n.disk.refusedPublishes }
    })
  }
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
