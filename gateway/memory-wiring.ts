// The memory watermark (runtime.heapWatermarkRatio) for the composition root: its bound is that
// fraction of V8's heap limit, V8 tells it of each full GC (a PerformanceObserver on 'gc' entries),
// and it refuses publishers through the same gate as the disk watermark (core/limits/heap-watermark.ts).
import { constants, PerformanceObserver } from 'node:perf_hooks'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { WharfConfig } from '../edge-config/config-types.ts'
import type { Logger } from '../core/logger.ts'
import type { Metrics } from '../core/metrics.ts'
import { systemClock } from '../core/clock.ts'
import { HeapWatermark } from '../core/limits/heap-watermark.ts'

export interface HeapWatch {
  readonly watermark: HeapWatermark
  stop(): void
}

/**
 * V8's full GC as a function. Node exposes it only with --expose-gc; the flag set at run time makes a
 * context created afterwards carry `gc`. Set only when the watermark is on.
 */
function fullGcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc')
  const gc: unknown = runInNewContext('gc')
  if (typeof gc !== 'function') throw new Error('memory watermark: V8 did not expose gc() after --expose-gc')
  return () => void gc()
}

export function watchHeap(config: WharfConfig, logger: Logger, metrics: Metrics, onChange: (reason: string | null) => void): HeapWatch {
  const heapBytesMax = Math.floor(config.runtime.heapWatermarkRatio * v8.getHeapStatistics().heap_size_limit)
  const watermark = new HeapWatermark({
    heapBytesMax,
    checkIntervalMs: config.runtime.heapCheckIntervalMs,
    clock: systemClock,
    heapUsedBytes: () => v8.getHeapStatistics().used_heap_size,
    ...(heapBytesMax === 0 ? {} : { fullGc: fullGcFunction() }),
    onChange,
    logger: logger.child({ component: 'memory' })
  })
  metrics.gauge('wharf_memory_publishers_blocked', '1 while the memory watermark refuses publishers', () => (watermark.status().blocked === null ? 0 : 1))
  metrics.gauge(
    'wharf_memory_heap_live_bytes',
    'The live V8 heap as the memory watermark last estimated it (after a full GC, or lower since)',
    () => watermark.status().liveBytes
  )
  metrics.gauge('wharf_memory_heap_watermark_bytes', 'The memory watermark: runtime.heapWatermarkRatio of the V8 heap limit (0: off)', () => heapBytesMax)
  if (heapBytesMax === 0) return { watermark, stop: () => {} }
  // The entry arrives after the GC, in a later turn: the heap then holds what the GC left plus what
  // was allocated since, a slight overestimate that errs towards refusing early.
  const observer = new PerformanceObserver(list => {
    for (const entry of list.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        watermark.fullGcDone()
        return
      }
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  watermark.start()
  return {
    watermark,
    stop: () => {
      observer.disconnect()
      watermark.stop()
    }
  }
}
