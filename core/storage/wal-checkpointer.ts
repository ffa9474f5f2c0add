// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the commit that
// crosses wal_autocheckpoint, so that commit (and every ack waiting on it) stalls for the copy and
// fsync of the database file: 12-16 ms here, every few thousand pages. A worker thread with its own
// connection runs PASSIVE checkpoints instead (they never block the writer), and the writer's own
// automatic checkpoint stays as a far-off safety net if the worker ever falls behind. Durability is
// unchanged: committed data is in the WAL either way; a checkpoint only copies it into the db file.
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'

export interface WalCheckpointerOptions {
  /** The database file (WAL mode). */
  readonly file: string
  /** storage.checkpointIntervalMs */
  readonly intervalMs: number
  /** Told about a failed checkpoint (e.g. the file went away); the next interval tries again. */
  readonly onError: (message: string) => void
}

// Plain JS, run with eval: the worker must not depend on the TypeScript loader of the main thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.modulePath)
const db = new Database(workerData.file, { fileMustExist: true })
db.pragma('busy_timeout = 0')
let stopped = false
const timer = setInterval(() => {
  if (stopped) return
  try { db.pragma('wal_checkpoint(PASSIVE)') } catch (err) { parentPort.postMessage({ error: String(err && err.message || err) }) }
}, workerData.intervalMs)
parentPort.on('message', m => {
  if (m !== 'stop') return
  stopped = true
  clearInterval(timer)
  try { db.close() } finally { parentPort.postMessage({ stopped: true }) }
})
`

export class WalCheckpointer {
  private readonly worker: Worker
  private stopping: Promise<void> | undefined

  constructor(opts: WalCheckpointerOptions) {
    if (!(opts.intervalMs > 0)) throw new Error(`wal checkpointer: intervalMs must be > 0, got ${opts.intervalMs}`)
    const modulePath = createRequire(import.meta.url).resolve('better-sqlite3')
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: opts.file, intervalMs: opts.intervalMs, modulePath } })
    this.worker.unref()
    this.worker.on('message', (m: { error?: string }) => {
      if (m.error !== undefined) opts.onError(`wal checkpoint: ${m.error}`)
    })
    this.worker.on('error', err => opts.onError(`wal checkpoint worker: ${err.message}`))
  }

  /** Closes the worker's connection (before the writer closes its own). */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>(resolve => {
      const timer = setTimeout(() => {
        void this.worker.terminate().then(() => resolve())
      }, 2000)
      this.worker.once('message', () => {
        clearTimeout(timer)
        void this.worker.terminate().then(() => resolve())
      })
      this.worker.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      this.worker.postMessage('stop')
    })
    return this.stopping
  }
}
