// Builds the cold tier for the composition root: the object store from tiering.url, the bounded
// block cache and cold reader that stream consumers read offloaded ranges through, and the
// TieringManager that seals, offloads and applies retention. Closed in reverse by close().
import type { WharfConfig } from '../edge-config/config-types.ts'
import { s3Region, tieringUrl } from '../edge-config/tiering-target.ts'
import type { Logger } from '../core/logger.ts'
import type { Metrics } from '../core/metrics.ts'
import type { Clock } from '../core/clock.ts'
import type { SqliteStreamStore } from '../core/streams/sqlite-stream-store.ts'
import type { SqliteStore } from '../core/storage/sqlite-store.ts'
import { objectStoreFromUrl } from '../core/tiering/object-store-from-url.ts'
import type { ObjectStore } from '../core/tiering/object-store.ts'
import { BlockCache } from '../core/tiering/block-cache.ts'
import { ColdReader, nextOffloadedFrom } from '../core/tiering/cold-reader.ts'
import { TieringManager, type TieringStatus } from '../core/tiering/tiering-manager.ts'
import { oncePerTurn } from '../core/util/once-per-turn.ts'

export interface Tiering {
  readonly objectStore: ObjectStore
  readonly cache: BlockCache
  readonly manager: TieringManager
  /** For /api/tiering: where segments go, the upload backlog and errors, the cache. */
  status(): Record<string, unknown>
  close(): Promise<void>
}

/** The object store configured by tiering.url (or `url`, the CLI's --url) and tiering.s3.*. */
export function configuredObjectStore(
  config: WharfConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
  url = tieringUrl(config)
): ObjectStore {
  return objectStoreFromUrl(url, {
    s3Endpoint: config.tiering.s3.endpoint,
    s3ForcePathStyle: config.tiering.s3.forcePathStyle,
    s3Region: s3Region(config, env)
  })
}

export function startTiering(config: WharfConfig, sqlite: SqliteStore, streams: SqliteStreamStore, clock: Clock, logger: Logger, metrics: Metrics): Tiering {
  const log = logger.child({ component: 'tiering' })
  const objectStore = configuredObjectStore(config)
  const cache = new BlockCache({ cacheBytesMax: config.tiering.cacheBytesMax })
  const cold = new ColdReader({ store: objectStore, cache, prefetchWatermark: config.tiering.prefetchWatermark, next: nextOffloadedFrom(streams), logger: log })
  streams.useColdReads(cold)
  const manager = new TieringManager({
    streams,
    store: objectStore,
    clock,
    logger: log,
    keyPrefix: '',
    localAgeSeconds: config.tiering.localAgeSeconds,
    localBytesMax: config.tiering.localBytesMax,
    checkIntervalMs: config.tiering.checkIntervalMs,
    blockBytesTarget: config.streams.blockBytes,
    uploadRetryInitialMs: config.tiering.uploadRetryInitialMs,
    uploadRetryMaxMs: config.tiering.uploadRetryMaxMs,
    // Seals are queued writes: the no-op write resolves after them, so the check sees what it sealed.
    sealDue: async nowMs => {
      streams.sealDue(nowMs)
      await sqlite.write(() => {})
    },
    applyRetention: nowMs => streams.applyRetention(nowMs)
  })
  // status() plans the offload over the manifest: once per scrape, not once per family.
  registerTieringMetrics(
    metrics,
    oncePerTurn(() => manager.status()),
    () => cache.stats,
    () => objectStore.stats
  )
  manager.start()
  log.info('tiering started', {
    objectStore: objectStore.description,
    localAgeSeconds: config.tiering.localAgeSeconds,
    localBytesMax: config.tiering.localBytesMax
  })
  return {
    objectStore,
    cache,
    manager,
    status: () => ({
      object_store: objectStore.description,
      ...snakeKeys(manager.status()),
      local_stream_bytes: streams.localBytes(),
      cache: snakeKeys(cache.stats as unknown as Record<string, unknown>),
      requests: snakeKeys(objectStore.stats as unknown as Record<string, unknown>)
    }),
    close: async () => {
      await manager.stop()
      streams.useColdReads(null)
      await objectStore.close()
    }
  }
}

function registerTieringMetrics(
  metrics: Metrics,
  status: () => TieringStatus,
  cache: () => { bytes: number; hits: number; misses: number; prefetches: number },
  requests: () => { gets: number; puts: number; failures: number }
): void {
  metrics.gauge('wharf_tiering_backlog_segments', 'Sealed segments due for offload and not yet uploaded', () => status().backlogSegments)
  metrics.gauge('wharf_tiering_backlog_bytes', 'Bytes of sealed segments due for offload and not yet uploaded', () => status().backlogBytes)
  metrics.counterFrom('wharf_tiering_uploaded_segments_total', 'Segments uploaded to the object store', () => status().uploadedSegments)
  metrics.counterFrom('wharf_tiering_uploaded_bytes_total', 'Segment bytes uploaded to the object store', () => status().uploadedBytes)
  metrics.counterFrom('wharf_tiering_upload_failures_total', 'Failed segment uploads (retried with backoff)', () => status().uploadFailures)
  metrics.gauge('wharf_tiering_cache_bytes', 'Decoded bytes held by the cold-read block cache', () => cache().bytes)
  metrics.counterFrom('wharf_tiering_cache_hits_total', 'Cold reads served from the block cache', () => cache().hits)
  metrics.counterFrom('wharf_tiering_cache_misses_total', 'Cold reads that needed a ranged GET', () => cache().misses)
  metrics.counterFrom('wharf_tiering_prefetches_total', 'Blocks fetched ahead of a sequential reader', () => cache().prefetches)
  metrics.counterFrom('wharf_object_store_gets_total', 'GET requests to the object store', () => requests().gets)
  metrics.counterFrom('wharf_object_store_puts_total', 'PUT requests to the object store', () => requests().puts)
  metrics.counterFrom('wharf_object_store_failures_total', 'Failed object store requests', () => requests().failures)
}

function snakeKeys(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) out[k.replace(/[A-Z]/g, c => '_' + c.toLowerCase())] = v
  return out
}
