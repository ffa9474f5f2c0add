// Node-level metrics for the composition root: the store (commits, their latency, the bytes it
// holds), open connections per protocol and listener, and stored volume per vhost. The adapters
// and core register their own families; this file wires what only the node can see.
import type { Metrics } from '../core/metrics.ts'
import { latencyBucketsSeconds, type Histogram } from '../core/metrics.ts'
import type { SqliteStore } from '../core/storage/sqlite-store.ts'
import type { Broker } from '../core/model/broker.ts'
import type { MqttAdapter } from '../adapters/mqtt/mqtt-adapter.ts'
import type { AmqpAdapter } from '../adapters/amqp/amqp-adapter.ts'
import { sqliteStoredBytes } from '../core/storage/disk-watermark.ts'
import { storedBytesByVhost } from '../core/metering/stored-bytes.ts'
import { oncePerTurn } from '../core/util/once-per-turn.ts'

/** The `listener` label of an MQTT connection's transport (listen names in wharf-node.ts). */
const MQTT_LISTENERS: Readonly<Record<string, string>> = { tcp: 'mqtt', tls: 'mqtts', 'mqtt websocket': 'ws', 'mqtt websocket tls': 'wss' }

const COMMIT_WRITES_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000]

export interface CommitObserver {
  /** For SqliteStore's onCommit. */
  readonly onCommit: (durationMs: number, writes: number) => void
}

/** Histograms of every group commit: its transaction's duration and its size. Registered before the store opens. */
export function commitObserver(metrics: Metrics): CommitObserver {
  const seconds: Histogram = metrics.histogram(
    'wharf_store_commit_seconds',
    'Duration of a SQLite group commit (the transaction, COMMIT included)',
    latencyBucketsSeconds
  )()
  const writes: Histogram = metrics.histogram(
    'wharf_store_commit_writes',
    'Writes in one SQLite group commit (each message of a gathered insert counted)',
    COMMIT_WRITES_BUCKETS
  )()
  return {
    onCommit: (durationMs, n) => {
      seconds.observe(durationMs / 1000)
      writes.observe(n)
    }
  }
}

export function registerStoreMetrics(metrics: Metrics, store: SqliteStore): void {
  metrics.counterFrom('wharf_store_commits_total', 'Group commits of the SQLite store', () => store.stats.commits)
  metrics.counterFrom('wharf_store_writes_committed_total', 'Writes committed by the SQLite store', () => store.stats.committedWrites)
  metrics.gauge('wharf_store_pending_writes', 'Writes queued for the next group commit', () => store.stats.pendingWrites)
  // Measured on every scrape, whether or not the disk watermark (storage.localBytesMax) is on.
  metrics.gauge('wharf_store_local_bytes', 'Bytes the SQLite database holds (pages in use), counted against storage.localBytesMax', () =>
    sqliteStoredBytes(store.db)
  )
}

export function registerNodeMetrics(metrics: Metrics, broker: Broker, mqtt: MqttAdapter, amqp: AmqpAdapter): void {
  metrics.gaugeFamily('wharf_connections', 'Open client connections per protocol and listener', ['protocol', 'listener'], emit => {
    for (const [transport, n] of mqtt.openByTransport()) emit({ protocol: 'mqtt', listener: MQTT_LISTENERS[transport] ?? transport }, n)
    for (const [listener, n] of amqp.openByListener()) emit({ protocol: 'amqp', listener }, n)
  })
  const stored = oncePerTurn(() => storedBytesByVhost(broker))
  metrics.counterFamily(
    'wharf_queue_flow_episodes_total',
    'Flow episodes of queues whose consumers fell behind (storage.flowHoldMaxMs): outcome="caught-up", or "gave-up" when they did not within it',
    ['vhost', 'outcome'],
    emit => {
      for (const v of broker.vhosts.values()) {
        emit({ vhost: v.name, outcome: 'caught-up' }, v.flowEnds.caughtUp)
        emit({ vhost: v.name, outcome: 'gave-up' }, v.flowEnds.gaveUp)
      }
    }
  )
  metrics.gaugeFamily(
    'wharf_usage_stored_bytes',
    'Bytes stored per vhost: tier="local" (queued bodies, local stream segments) or "cold" (segments in the object store)',
    ['vhost', 'tier'],
    emit => {
      for (const [vhost, s] of stored()) {
        emit({ vhost, tier: 'local' }, s.localBytes)
        emit({ vhost, tier: 'cold' }, s.coldBytes)
      }
    }
  )
}
