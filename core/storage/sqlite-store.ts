import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { migrations as defaultMigrations, type Migration } from './migrations.ts'
import { WalCheckpointer } from './wal-checkpointer.ts'
import { systemClock, type Clock } from '../clock.ts'

export type Durability = 'process' | 'power'

export interface SqliteStoreOptions {
  dataDir: string
  fileName?: string
  /** process: WAL + synchronous=NORMAL (survives a killed process); power: synchronous=FULL (survives power loss). */
  durability: Durability
  /** Extra time to gather writes into one transaction; 0 = one event-loop turn. */
  commitWindowMs: number
  /** Upper bound of writes gathered in one transaction before it is committed early. */
  commitBatchMax: number
  /**
   * storage.deferredCommitMs: the longest a deferred write (writeDeferred) waits for another write's
   * commit before it is committed by itself. 0 or absent: deferred writes commit as any other.
   */
  deferredCommitMs?: number
  migrations?: Migration[]
  /**
   * storage.checkpointIntervalMs: WAL checkpoints run in a worker thread this often, off the event
   * loop (wal-checkpointer.ts). 0: SQLite's automatic checkpoint inside the commit, as by default.
   */
  checkpointIntervalMs?: number
  /** storage.walBytesMax: the WAL file is truncated back to this size after a checkpoint reset it. */
  walBytesMax?: number
  /** Where a failed background checkpoint is reported. */
  onCheckpointError?: (message: string) => void
  /** Told of every group commit: how long its transaction took and how many writes it held, a gathered write's rows each counted (commit latency metrics). */
  onCommit?: (durationMs: number, writes: number) => void
  /** Times the commits for onCommit (its monotonic reading). */
  clock?: Pick<Clock, 'monotonicMs'>
}

export type WriteFn = (db: Database.Database) => void

interface PendingWrite {
  fn: WriteFn
  resolve: () => void
  reject: (err: Error) => void
}

/**
 * The one SQLite file of a Wharf node. Reads run synchronously; writes are queued with write() and
 * group-committed: everything queued in one event-loop turn (or commitWindowMs) shares one
 * transaction, and each write's promise settles only after that transaction committed — so an ack
 * sent on resolution is never ahead of the data.
 */
export class SqliteStore {
  readonly db: Database.Database
  private pending: PendingWrite[] = []
  private flushScheduled = false
  private timer: NodeJS.Timeout | undefined
  /** Commits deferred writes that no other write came to carry (writeDeferred). */
  private deferredTimer: NodeJS.Timeout | undefined
  private closed = false
  private commits = 0
  private queued = 0
  /** Writes in the next commit, counting a gathered write's rows (grew). */
  private pendingWeight = 0
  private committedWrites = 0
  /** Inside together(): a full batch waits for its end instead of committing early. */
  private holding = 0
  private checkpointer: WalCheckpointer | undefined

  private constructor(
    db: Database.Database,
    private readonly opts: SqliteStoreOptions
  ) {
    this.db = db
  }

  static open(opts: SqliteStoreOptions): SqliteStore {
    mkdirSync(opts.dataDir, { recursive: true })
    const file = join(opts.dataDir, opts.fileName ?? 'wharf.db')
    let db: Database.Database
    try {
      db = new Database(file)
    } catch (err) {
      throw new Error(`store: open ${file}: ${(err as Error).message}`)
    }
    try {
      return SqliteStore.configure(db, file, opts)
    } catch (err) {
      // A file that is not a database (or a failed migration): close it, and say which file.
      db.close()
      const message = (err as Error).message
      throw new Error(message.startsWith('store: ') ? message.replace(/^store: /, `store: open ${file}: `) : `store: open ${file}: ${message}`, { cause: err })
    }
  }

  private static configure(db: Database.Database, file: string, opts: SqliteStoreOptions): SqliteStore {
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${opts.durability === 'power' ? 'FULL' : 'NORMAL'}`)
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 5000')
    const walBytesMax = opts.walBytesMax ?? 64 * 1024 * 1024
    db.pragma(`journal_size_limit = ${walBytesMax}`)
    const store = new SqliteStore(db, opts)
    store.migrate(opts.migrations ?? defaultMigrations)
    const intervalMs = opts.checkpointIntervalMs ?? 0
    if (intervalMs > 0) {
      // The writer's own checkpoint stays as a safety net, at walBytesMax, should the worker fall behind.
      const pageBytes = db.pragma('page_size', { simple: true }) as number
      db.pragma(`wal_autocheckpoint = ${Math.max(4000, Math.floor(walBytesMax / pageBytes))}`)
      store.checkpointer = new WalCheckpointer({ file, intervalMs, onError: opts.onCheckpointError ?? (() => {}) })
    } else {
      // Keep the WAL from growing without bound under a steady write load.
      db.pragma('wal_autocheckpoint = 4000')
    }
    return store
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number
  }

  get stats(): { commits: number; committedWrites: number; pendingWrites: number } {
    return { commits: this.commits, committedWrites: this.committedWrites, pendingWrites: this.pending.length }
  }

  private migrate(list: Migration[]): void {
    const current = this.schemaVersion
    const sorted = [...list].sort((a, b) => a.version - b.version)
    for (const m of sorted) {
      if (m.version <= current) continue
      const apply = this.db.transaction(() => {
        this.db.exec(m.sql)
        this.db.pragma(`user_version = ${m.version}`)
      })
      try {
        apply()
      } catch (err) {
        throw new Error(`store: migration ${m.version} (${m.description}): ${(err as Error).message}`)
      }
    }
  }

  /**
   * How many writes were queued since the store opened. A caller that gathers its own rows into one
   * queued write may add to it only while this has not moved: a later write must not run before it.
   */
  get queuedWrites(): number {
    return this.queued
  }

  /** Queue a write; it commits with the others of this turn. Resolves after the commit. */
  write(fn: WriteFn): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store: write after close'))
    return this.enqueue(fn, 0)
  }

  /**
   * The write queued last gathers one more row: it counts as one more write against commitBatchMax,
   * so a gathering caller cannot make a commit larger than the limit allows.
   */
  grew(): void {
    if (++this.pendingWeight >= this.opts.commitBatchMax && this.holding === 0) this.flush()
  }

  /**
   * Runs fn; the writes it queues (write, writeDeferred, and a deferred write they join) commit in one
   * transaction: commitBatchMax, the one thing that splits a turn's writes, is checked when fn returns.
   * For rows of two modules that must land together or not at all (a queue entry's deletion and the
   * MQTT state that replaces it). A batch whose transaction fails is retried one write at a time.
   */
  together(fn: () => void): void {
    this.holding++
    try {
      fn()
    } finally {
      this.holding--
      if (this.holding === 0 && this.pendingWeight >= this.opts.commitBatchMax) this.flush()
    }
  }

  /**
   * Queue a write that nobody waits for soon (the deletion of acknowledged entries): it schedules no
   * commit of its own but goes with the next write's, or after deferredCommitMs at the latest. Under
   * load that saves a commit per turn; a kill within that time loses the write (a redelivery).
   */
  writeDeferred(fn: WriteFn): Promise<void> {
    const deferMs = this.opts.deferredCommitMs ?? 0
    if (deferMs <= 0 || this.closed) return this.write(fn)
    return this.enqueue(fn, deferMs)
  }

  /** deferMs 0: commit in this turn (or commitWindowMs); otherwise with the next commit, at most deferMs later. */
  private enqueue(fn: WriteFn, deferMs: number): Promise<void> {
    this.queued++
    return new Promise((resolve, reject) => {
      this.pending.push({ fn, resolve, reject })
      this.pendingWeight++
      if (this.pendingWeight >= this.opts.commitBatchMax && this.holding === 0) this.flush()
      else if (deferMs === 0) this.scheduleFlush()
      else if (!this.flushScheduled && this.deferredTimer === undefined) this.deferredTimer = setTimeout(flushStore, deferMs, this)
    })
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    if (this.opts.commitWindowMs > 0) {
      this.timer = setTimeout(flushStore, this.opts.commitWindowMs, this)
    } else {
      setImmediate(flushStore, this)
    }
  }

  /** Commit everything queued now. Safe to call at any time (shutdown drains with it). */
  flush(): void {
    this.flushScheduled = false
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (this.deferredTimer !== undefined) {
      clearTimeout(this.deferredTimer)
      this.deferredTimer = undefined
    }
    const batch = this.pending
    if (batch.length === 0) return
    this.pending = []
    // A gathered write counts its rows (grew), as it does against commitBatchMax.
    const weight = this.pendingWeight
    this.pendingWeight = 0
    const onCommit = this.opts.onCommit
    const startedMs = onCommit === undefined ? 0 : (this.opts.clock ?? systemClock).monotonicMs()
    try {
      this.db.transaction(() => {
        for (const w of batch) w.fn(this.db)
      })()
    } catch {
      // One write failed and took the batch's transaction with it: commit the rest one by one so
      // only the faulty write is refused.
      for (const w of batch) {
        try {
          this.db.transaction(w.fn)(this.db)
          this.settle(w, undefined)
        } catch (err) {
          this.settle(w, err as Error)
        }
      }
      this.commits += batch.length
      return
    }
    this.commits++
    if (onCommit !== undefined) onCommit((this.opts.clock ?? systemClock).monotonicMs() - startedMs, weight)
    for (const w of batch) this.settle(w, undefined)
  }

  private settle(w: PendingWrite, err: Error | undefined): void {
    if (err) {
      w.reject(err)
    } else {
      this.committedWrites++
      w.resolve()
    }
  }

  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    void this.checkpointer?.stop()
    this.db.close()
  }
}

function flushStore(store: SqliteStore): void {
  store.flush()
}
