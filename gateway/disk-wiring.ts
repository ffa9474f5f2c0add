// The disk watermark (storage.localBytesMax) for the composition root (DESIGN.md §4, §5): with the
// memory watermark (memory-wiring.ts) and each bridge's backlog bound, what refuses publishers, through
// the publish gate. Crossing it blocks AMQP publishers (connection.blocked)
// and stops acknowledging MQTT QoS 1/2 publishes; both clear when offload and acks free space.
import { join } from 'node:path'
import type { WharfConfig } from '../edge-config/config-types.ts'
import type { Logger } from '../core/logger.ts'
import type { Metrics } from '../core/metrics.ts'
import type { SqliteStore } from '../core/storage/sqlite-store.ts'
import { systemClock } from '../core/clock.ts'
import { DiskWatermark, sqliteStoredBytes } from '../core/storage/disk-watermark.ts'

export function watchDisk(config: WharfConfig, store: SqliteStore, logger: Logger, metrics: Metrics, onChange: (reason: string | null) => void): DiskWatermark {
  const watermark = new DiskWatermark({
    dbFile: join(config.dataDir, 'wharf.db'),
    localBytesMax: config.storage.localBytesMax,
    diskCheckIntervalMs: config.storage.diskCheckIntervalMs,
    clock: systemClock,
    onChange,
    storedBytes: () => sqliteStoredBytes(store.db),
    logger: logger.child({ component: 'disk' })
  })
  metrics.gauge('wharf_store_publishers_blocked', '1 while the disk watermark refuses publishers', () => (watermark.status().blocked === null ? 0 : 1))
  if (config.storage.localBytesMax > 0) watermark.start()
  return watermark
}
