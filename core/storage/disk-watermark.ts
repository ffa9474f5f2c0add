// The local disk watermark (DESIGN.md §4): every diskCheckIntervalMs the SQLite files (db, -wal,
// -shm) are measured against storage.localBytesMax, and onChange says when publishers must be
// refused (with the reason) and when that clears. It is the only thing that ever refuses
// publishers: a down object store only makes the local store grow until this trips.
import { statSync } from 'node:fs'
import type { Clock, TimerHandle } from '../clock.ts'
import type { Logger } from '../logger.ts'
import { silentLogger } from '../logger.ts'
import { formatBytes } from './format-bytes.ts'

export interface DiskWatermarkOptions {
  /** The SQLite database file; `<dbFile>-wal` and `<dbFile>-shm` are counted with it. */
  readonly dbFile: string
  /** storage.localBytesMax; 0 = no limit (never blocks). */
  readonly localBytesMax: number
  /** storage.diskCheckIntervalMs */
  readonly diskCheckIntervalMs: number
  readonly clock: Clock
  /** Called only on a change: the reason when publishers must be refused, null when that clears. */
  readonly onChange: (blocked: string | null) => void
  /**
   * Bytes inside the files SQLite will reuse before it grows them (free pages: sqliteFreeBytes).
   * Subtracted, because SQLite never shrinks its file: without it, once over the limit, offloading
   * and deleting rows would never clear the block.
   */
  readonly reusableBytes?: () => number
  /**
   * The bytes to hold against the limit, instead of the files' sizes: the gateway passes the
   * database's own size (sqliteStoredBytes), which does not depend on when the WAL was last
   * checkpointed (the WAL file itself is bounded by storage.walBytesMax).
   */
  readonly storedBytes?: () => number
  /** Publishers are accepted again only below this fraction of localBytesMax (default 0.9). */
  readonly resumeFraction?: number
  readonly logger?: Logger
}

const RESUME_FRACTION_DEFAULT = 0.9

export interface DiskWatermarkStatus {
  blocked: string | null
  /** Last measurement: file bytes minus reusable bytes. */
  bytes: number
  localBytesMax: number
  checks: number
  /** Times the watermark was crossed upwards / cleared. */
  blockedCount: number
  clearedCount: number
  checkFailures: number
}

export class DiskWatermark {
  private readonly logger: Logger
  private blocked: string | null = null
  private timer: TimerHandle | null = null
  private readonly counters = { bytes: 0, checks: 0, blockedCount: 0, clearedCount: 0, checkFailures: 0 }

  constructor(private readonly opts: DiskWatermarkOptions) {
    if (!(opts.localBytesMax >= 0)) throw new Error(`disk watermark: storage.localBytesMax must be >= 0, got ${opts.localBytesMax}`)
    if (!(opts.diskCheckIntervalMs > 0)) throw new Error(`disk watermark: storage.diskCheckIntervalMs must be > 0, got ${opts.diskCheckIntervalMs}`)
    this.logger = opts.logger ?? silentLogger
  }

  status(): DiskWatermarkStatus {
    return { ...this.counters, blocked: this.blocked, localBytesMax: this.opts.localBytesMax }
  }

  /** Measures now; calls onChange when the state changed. Returns the current reason (null = not blocked). */
  check(): string | null {
    this.counters.checks++
    let bytes: number
    try {
      bytes = this.measureBytes()
    } catch (err) {
      // A failed measurement changes nothing: the last known state stands until one succeeds.
      this.counters.checkFailures++
      this.logger.warn('disk watermark: measure failed', { file: this.opts.dbFile, err: (err as Error).message })
      return this.blocked
    }
    this.counters.bytes = bytes
    const max = this.opts.localBytesMax
    // Once blocked, the store must come down to resumeFraction of the limit: a measure that hovers
    // at the limit (WAL frames counted before a checkpoint folds them into pages) does not flap.
    const limit = this.blocked === null ? max : max * (this.opts.resumeFraction ?? RESUME_FRACTION_DEFAULT)
    const reason = max > 0 && bytes > limit ? `local store ${formatBytes(bytes)} over storage.localBytesMax ${formatBytes(max)}` : null
    if ((reason === null) !== (this.blocked === null)) {
      this.blocked = reason
      if (reason === null) {
        this.counters.clearedCount++
        this.logger.info('disk watermark: cleared', { bytes, localBytesMax: max })
      } else {
        this.counters.blockedCount++
        this.logger.warn('disk watermark: publishers refused', { reason, bytes, localBytesMax: max })
      }
      this.opts.onChange(reason)
    } else if (reason !== null) {
      this.blocked = reason // same state, current figure
    }
    return this.blocked
  }

  /** Measures every diskCheckIntervalMs, the first time right away. A no-op when localBytesMax is 0. */
  start(): void {
    if (this.timer !== null || this.opts.localBytesMax === 0) return
    this.check()
    this.schedule()
  }

  stop(): void {
    if (this.timer !== null) this.opts.clock.clearTimer(this.timer)
    this.timer = null
  }

  private schedule(): void {
    this.timer = this.opts.clock.setTimer(() => {
      this.check()
      if (this.timer !== null) this.schedule()
    }, this.opts.diskCheckIntervalMs)
  }

  private measureBytes(): number {
    if (this.opts.storedBytes !== undefined) return this.opts.storedBytes()
    const files = [this.opts.dbFile, `${this.opts.dbFile}-wal`, `${this.opts.dbFile}-shm`]
    const total = files.reduce((n, f) => n + fileBytes(f), 0)
    const reusable = this.opts.reusableBytes?.() ?? 0
    return Math.max(0, total - reusable)
  }
}

/**
 * Pages in use of an open SQLite database, in bytes, as of its latest commit (pages still in the
 * WAL included, free pages not): what the store holds, whether or not a checkpoint ran yet.
 */
export function sqliteStoredBytes(db: { pragma: (source: string, options: { simple: true }) => unknown }): number {
  const pages = Number(db.pragma('page_count', { simple: true })) - Number(db.pragma('freelist_count', { simple: true }))
  return pages * Number(db.pragma('page_size', { simple: true }))
}

/** Free pages of an open SQLite database, in bytes: space it fills before its file grows. */
export function sqliteFreeBytes(db: { pragma: (source: string, options: { simple: true }) => unknown }): number {
  const freePages = Number(db.pragma('freelist_count', { simple: true }))
  const pageBytes = Number(db.pragma('page_size', { simple: true }))
  return freePages * pageBytes
}

function fileBytes(file: string): number {
  try {
    return statSync(file).size
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0 // no WAL yet, or after a clean close
    throw err
  }
}
