// One Wharf process per data directory. The lock is SQLite's own file lock (fcntl) on <dataDir>/wharf.lock:
// the holder keeps a write transaction open (BEGIN IMMEDIATE: SQLite's RESERVED lock, which one connection
// at a time can hold), so the kernel releases it when the process dies, however it dies: a SIGKILLed
// broker leaves no stale lock, unlike a PID file. Readers are not blocked by a RESERVED lock, so a
// second process can still read the holder's PID, committed in the file before the lock was taken.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

export const LOCK_FILE_NAME = 'wharf.lock'

/** Another live process holds the directory. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError'
  constructor(
    readonly dataDir: string,
    readonly holderPid: number | null
  ) {
    super(
      `data directory ${dataDir} is locked by another wharf process (${holderPid === null ? 'pid not recorded yet' : `pid ${holderPid}`}); ` +
        'one process per data directory: stop that one or give this one another dataDir'
    )
  }
}

export interface DataDirLock {
  readonly file: string
  /** Releases the lock (closing the file ends the transaction); idempotent. */
  release(): void
}

// Two processes racing for a fresh lock can each commit their PID before one of them takes the lock;
// the winner re-checks that the committed PID is its own, a bounded number of times.
const ATTEMPTS_MAX = 5

/** Creates dataDir if needed and locks it for this process, or throws DataDirLockedError naming the holder. */
export function lockDataDir(dataDir: string, pid: number = process.pid): DataDirLock {
  try {
    mkdirSync(dataDir, { recursive: true })
  } catch (err) {
    throw new Error(`data directory ${dataDir}: create: ${(err as Error).message}`)
  }
  const file = join(dataDir, LOCK_FILE_NAME)
  let db: Database.Database
  try {
    // A short busy timeout: only to read past another process's brief commit of its PID.
    db = new Database(file, { timeout: 100 })
    db.pragma('journal_mode = DELETE')
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, started_at TEXT NOT NULL)')
  } catch (err) {
    throw new Error(`data directory ${dataDir}: open lock file ${file}: ${(err as Error).message}`)
  }
  try {
    for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
      if (!tryBegin(db)) throw new DataDirLockedError(dataDir, holderPid(db))
      if (holderPid(db) === pid)
        return {
          file,
          release: () => {
            if (db.open) db.close()
          }
        }
      // Ours now, but the recorded PID is not: record it, then take the lock again (a reader sees only committed rows).
      db.exec(`DELETE FROM holder; INSERT INTO holder (pid, started_at) VALUES (${pid}, '${new Date().toISOString()}'); COMMIT`)
    }
    throw new Error(`data directory ${dataDir}: lock ${file}: another process kept taking it (${ATTEMPTS_MAX} attempts)`)
  } catch (err) {
    db.close()
    throw err
  }
}

function tryBegin(db: Database.Database): boolean {
  try {
    db.exec('BEGIN IMMEDIATE')
    return true
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return false
    throw err
  }
}

function holderPid(db: Database.Database): number | null {
  try {
    const row = db.prepare('SELECT pid FROM holder LIMIT 1').get() as { pid: number } | undefined
    return row?.pid ?? null
  } catch {
    return null
  }
}
