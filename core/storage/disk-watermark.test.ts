// The disk watermark against a real SQLite file: rows are written until the files pass the limit,
// then deleted (free pages reused, WAL truncated) until they are back under it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { SqliteStore } from './sqlite-store.ts'
import { DiskWatermark, sqliteFreeBytes } from './disk-watermark.ts'
import { formatBytes } from './format-bytes.ts'
import { ManualClock } from '../manual-clock.ts'

async function withStore(fn: (store: SqliteStore, dbFile: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-disk-watermark-'))
  const store = SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 1000 })
  try {
    store.db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB NOT NULL)')
    await fn(store, path.join(dir, 'wharf.db'))
  } finally {
    store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

function fill(store: SqliteStore, rows: number, bytes: number): void {
  const insert = store.db.prepare('INSERT INTO filler (body) VALUES (?)')
  store.db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(Buffer.alloc(bytes, i))
  })()
}

test('disk watermark: blocks with a reason past storage.localBytesMax and clears when rows go', { timeout: 20_000 }, async () => {
  await withStore(async (store, dbFile) => {
    const changes: Array<string | null> = []
    const clock = new ManualClock()
    const limit = 2 * 1024 * 1024
    const watermark = new DiskWatermark({
      dbFile,
      localBytesMax: limit,
      diskCheckIntervalMs: 1000,
      clock,
      onChange: blocked => changes.push(blocked),
      reusableBytes: () => sqliteFreeBytes(store.db)
    })
    watermark.start()
    assert.equal(watermark.status().blocked, null)
    assert.ok(watermark.status().bytes > 0 && watermark.status().bytes < limit)

    fill(store, 3000, 1024) // ~3 MiB
    clock.advance(999)
    assert.deepEqual(changes, [], 'not measured before the interval')
    clock.advance(1)
    assert.equal(changes.length, 1)
    const reason = changes[0] ?? ''
    assert.match(reason, /^local store \d+(\.\d)? MiB over storage\.localBytesMax 2 MiB$/)
    assert.ok(watermark.status().bytes > limit)

    fill(store, 100, 1024)
    clock.advance(1000)
    assert.equal(changes.length, 1, 'still over: no new change')
    assert.equal(watermark.status().blockedCount, 1)

    store.db.exec('DELETE FROM filler')
    store.db.pragma('wal_checkpoint(TRUNCATE)')
    clock.advance(1000)
    assert.deepEqual(changes.slice(1), [null], 'cleared once the free pages are counted as reusable')
    assert.equal(watermark.status().clearedCount, 1)
    assert.ok(watermark.status().checks >= 4)

    watermark.stop()
    fill(store, 3000, 1024)
    clock.advance(10_000)
    assert.equal(changes.length, 2, 'no checks after stop')
    assert.equal(clock.pendingCount, 0)
  })
})

test('disk watermark: the db, -wal and -shm files are all counted; 0 means off', { timeout: 20_000 }, async () => {
  await withStore(async (store, dbFile) => {
    fill(store, 500, 1024)
    const clock = new ManualClock()
    const changes: Array<string | null> = []
    const watermark = new DiskWatermark({ dbFile, localBytesMax: 1, diskCheckIntervalMs: 1000, clock, onChange: b => changes.push(b) })
    watermark.check()
    const { statSync } = await import('node:fs')
    const expected = [dbFile, `${dbFile}-wal`, `${dbFile}-shm`].reduce((n, f) => n + statSync(f).size, 0)
    assert.ok(statSync(`${dbFile}-wal`).size > 0, 'the WAL holds the uncheckpointed rows')
    assert.equal(watermark.status().bytes, expected)
    assert.equal(changes.length, 1)

    const off = new DiskWatermark({ dbFile, localBytesMax: 0, diskCheckIntervalMs: 1000, clock, onChange: b => changes.push(b) })
    off.start()
    assert.equal(clock.pendingCount, 0, 'off: no timer')
    assert.equal(off.check(), null)
    assert.equal(changes.length, 1)
  })
})

test('disk watermark: a missing file measures as 0 bytes; bad limits are refused', { timeout: 5000 }, () => {
  const clock = new ManualClock()
  const w = new DiskWatermark({
    dbFile: path.join(os.tmpdir(), 'wharf-no-such-dir', 'x.db'),
    localBytesMax: 10,
    diskCheckIntervalMs: 1,
    clock,
    onChange: () => {}
  })
  assert.equal(w.check(), null)
  assert.equal(w.status().bytes, 0)
  assert.throws(() => new DiskWatermark({ dbFile: 'x', localBytesMax: -1, diskCheckIntervalMs: 1, clock, onChange: () => {} }), /localBytesMax/)
  assert.throws(() => new DiskWatermark({ dbFile: 'x', localBytesMax: 1, diskCheckIntervalMs: 0, clock, onChange: () => {} }), /diskCheckIntervalMs/)
})

test('format bytes: binary units with one decimal', { timeout: 5000 }, () => {
  assert.equal(formatBytes(512), '512 B')
  assert.equal(formatBytes(1024), '1 KiB')
  assert.equal(formatBytes(1.2 * 1024 ** 3), '1.2 GiB')
  assert.equal(formatBytes(1024 ** 3), '1 GiB')
})

test('disk watermark: the database size in pages does not depend on when the WAL was checkpointed', { timeout: 10_000 }, async () => {
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const { default: Database } = await import('better-sqlite3')
  const { sqliteStoredBytes } = await import('./disk-watermark.ts')
  const dir = mkdtempSync(join(tmpdir(), 'wharf-stored-'))
  const db = new Database(join(dir, 'x.db'))
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('wal_autocheckpoint = 0')
    db.exec('CREATE TABLE t (b BLOB)')
    const ins = db.prepare('INSERT INTO t VALUES (?)')
    db.transaction(() => {
      for (let i = 0; i < 200; i++) ins.run(Buffer.alloc(4000))
    })()
    const before = sqliteStoredBytes(db)
    assert.ok(before > 200 * 4000, `holds the rows (${before} bytes)`)
    db.pragma('wal_checkpoint(TRUNCATE)')
    assert.equal(sqliteStoredBytes(db), before, 'a checkpoint moves pages, it does not change the size')
    db.exec('DELETE FROM t')
    assert.ok(sqliteStoredBytes(db) < before / 10, 'deleted rows free their pages')
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
