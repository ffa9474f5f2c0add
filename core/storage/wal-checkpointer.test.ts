import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from './sqlite-store.ts'
import { eventually } from '../../test/support/wait.ts'

test('checkpoints run in the worker: committed pages reach the db file without a checkpoint in any commit', { timeout: 20000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-ckpt-'))
  const store = SqliteStore.open({
    dataDir: dir,
    durability: 'process',
    commitWindowMs: 0,
    commitBatchMax: 5000,
    checkpointIntervalMs: 20,
    walBytesMax: 64 * 1024 * 1024,
    migrations: []
  })
  try {
    assert.ok((store.db.pragma('wal_autocheckpoint', { simple: true }) as number) >= 16384, 'the writer checkpoints only as a far-off safety net')
    store.db.exec('CREATE TABLE t (b BLOB)')
    const dbFile = join(dir, 'wharf.db')
    const before = statSync(dbFile).size
    const row = Buffer.alloc(1000, 7)
    for (let i = 0; i < 4; i++)
      await store.write(db => {
        const ins = db.prepare('INSERT INTO t VALUES (?)')
        for (let k = 0; k < 500; k++) ins.run(row)
      })
    await eventually('the db file to grow by the checkpointed pages', () => statSync(dbFile).size >= before + 1_500_000, 10_000)
    assert.equal((store.db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 2000)
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test("checkpointIntervalMs 0 keeps SQLite's own checkpoint in the commit", () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-ckpt0-'))
  const store = SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 5000, checkpointIntervalMs: 0, migrations: [] })
  try {
    assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 4000)
    assert.equal(store.db.pragma('journal_size_limit', { simple: true }), 64 * 1024 * 1024)
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
