// The memory watermark (runtime.heapWatermarkRatio), RabbitMQ's vm_memory_high_watermark for a
// process whose limit is V8's heap: every queued message lives in memory as well as in SQLite, so
// a backlog of small messages (a bridge's remote away for hours) reaches the heap limit long before
// any byte bound on bodies, and V8 then aborts the process. Above the watermark publishers are
// refused as at the disk watermark (the caller wires onChange to the publish gate), until the heap
// is below resumeFraction of it.
//
// What counts is the live heap: what a full (mark-compact) GC left. The heap in use between GCs
// includes garbage, so it would trip the watermark on a heap that is mostly free. V8 runs full GCs
// as its old generation grows, so a growing live heap is seen in time; between them the periodic
// check only lowers the estimate (the heap in use is an upper bound of the live heap). While the
// watermark holds, each check runs a full GC itself (fullGc): refused publishers allocate little, so
// V8 might not collect for a long while, and the garbage of drained queues would keep it blocked.
// Those GCs are spaced so that they take at most a tenth of the time (a full GC of a large heap
// takes a while).
import type { Clock, TimerHandle } from '../clock.ts'
import type { Logger } from '../logger.ts'
import { silentLogger } from '../logger.ts'
import { formatBytes } from '../storage/format-bytes.ts'

export interface HeapWatermarkOptions {
  /** The live heap above which publishers are refused, in bytes; 0 = off (never refuses). */
  readonly heapBytesMax: number
  /** runtime.heapCheckIntervalMs */
  readonly checkIntervalMs: number
  readonly clock: Clock
  /** The heap in use now, in bytes (v8.getHeapStatistics().used_heap_size). */
  readonly heapUsedBytes: () => number
  /** Runs a full GC now, synchronously; called at each check while the watermark holds. */
  readonly fullGc?: () => void
  /** Called only on a change: the reason when publishers must be refused, null when that clears. */
  readonly onChange: (blocked: string | null) => void
  /** Publishers are accepted again only below this fraction of heapBytesMax (default 0.9). */
  readonly resumeFraction?: number
  readonly logger?: Logger
}

const RESUME_FRACTION_DEFAULT = 0.9
/** A GC of its own is run at most once per this many times its last duration. */
const FULL_GC_SPACING_FACTOR = 10

export interface HeapWatermarkStatus {
  blocked: string | null
  /** The live heap as last estimated (after a full GC, or lower since), in bytes. */
  liveBytes: number
  heapBytesMax: number
  fullGcs: number
  /** Times the watermark was crossed upwards / cleared. */
  blockedCount: number
  clearedCount: number
}

export class HeapWatermark {
  private readonly logger: Logger
  private blocked: string | null = null
  private liveBytes = 0
  private timer: TimerHandle | null = null
  /** No GC of its own before this (clock.monotonicMs). */
  private nextFullGcAtMs = 0
  private readonly counters = { fullGcs: 0, blockedCount: 0, clearedCount: 0 }

  constructor(private readonly opts: HeapWatermarkOptions) {
    if (!(opts.heapBytesMax >= 0)) throw new Error(`memory watermark: the heap bound must be >= 0 bytes, got ${opts.heapBytesMax}`)
    if (!(opts.checkIntervalMs > 0)) throw new Error(`memory watermark: runtime.heapCheckIntervalMs must be > 0, got ${opts.checkIntervalMs}`)
    this.logger = opts.logger ?? silentLogger
  }

  status(): HeapWatermarkStatus {
    return { ...this.counters, blocked: this.blocked, liveBytes: this.liveBytes, heapBytesMax: this.opts.heapBytesMax }
  }

  /** A full GC just ended: the heap in use now is (about) the live heap. */
  fullGcDone(): void {
    this.counters.fullGcs++
    this.liveBytes = this.opts.heapUsedBytes()
    this.judge()
  }

  /**
   * The periodic check: while the watermark holds, a full GC and its result; otherwise the heap in
   * use, which bounds the live heap from above, so a lower reading stands for it.
   */
  check(): string | null {
    const clock = this.opts.clock
    if (this.blocked !== null && this.opts.fullGc !== undefined && clock.monotonicMs() >= this.nextFullGcAtMs) {
      const startMs = clock.monotonicMs()
      this.opts.fullGc()
      const endMs = clock.monotonicMs()
      this.nextFullGcAtMs = endMs + FULL_GC_SPACING_FACTOR * (endMs - startMs)
      // Counted by fullGcDone() when V8 reports it (memory-wiring.ts); read here, not counted twice.
      this.liveBytes = this.opts.heapUsedBytes()
      this.judge()
    } else {
      this.liveBytes = Math.min(this.liveBytes, this.opts.heapUsedBytes())
      this.judge()
    }
    return this.blocked
  }

  /** Checks every checkIntervalMs. A no-op when heapBytesMax is 0. */
  start(): void {
    if (this.timer !== null || this.opts.heapBytesMax === 0) return
    this.schedule()
  }

  stop(): void {
    if (this.timer !== null) this.opts.clock.clearTimer(this.timer)
    this.timer = null
  }

  private judge(): void {
    const max = this.opts.heapBytesMax
    // Once blocked, the heap must come down to resumeFraction of the bound, so that it does not flap.
    const limit = this.blocked === null ? max : max * (this.opts.resumeFraction ?? RESUME_FRACTION_DEFAULT)
    const over = max > 0 && this.liveBytes > limit
    if (over === (this.blocked !== null)) return
    const bytes = this.liveBytes
    if (over) {
      this.blocked = `live heap ${formatBytes(bytes)} over the memory watermark ${formatBytes(max)} (runtime.heapWatermarkRatio)`
      this.counters.blockedCount++
      this.logger.warn('memory watermark: publishers refused', { reason: this.blocked, liveBytes: bytes, heapBytesMax: max })
    } else {
      this.blocked = null
      this.counters.clearedCount++
      this.logger.info('memory watermark: cleared', { liveBytes: bytes, heapBytesMax: max })
    }
    this.opts.onChange(this.blocked)
  }

  private schedule(): void {
    this.timer = this.opts.clock.setTimer(() => {
      this.check()
      if (this.timer !== null) this.schedule()
    }, this.opts.checkIntervalMs)
  }
}
