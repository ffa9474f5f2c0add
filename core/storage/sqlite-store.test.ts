import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.ts'

function tempStore(commitBatchMax = 1000, more: Partial<SqliteStoreOptions> = {}): { store: SqliteStore; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-store-'))
  const store = SqliteStore.open({
    dataDir: dir,
    durability: 'process',
    commitWindowMs: 0,
    commitBatchMax,
    migrations: [{ version: 1, description: 'kv', sql: 'CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)' }],
    ...more
  })
  return { store, dir }
}

test('writes of one turn share one transaction and resolve after commit', async () => {
  const { store, dir } = tempStore()
  try {
    const before = store.stats.commits
    const writes = []
    for (let i = 0; i < 50; i++) {
      writes.push(
        store.write(db => {
          db.prepare('INSERT INTO kv VALUES (?, ?)').run(`k${i}`, 'v')
        })
      )
    }
    await Promise.all(writes)
    assert.equal(store.stats.commits - before, 1)
    assert.equal((store.db.prepare('SELECT count(*) AS n FROM kv').get() as { n: number }).n, 50)
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a failing write is refused alone; the rest of its batch commits', async () => {
  const { store, dir } = tempStore()
  try {
    const ok1 = store.write(db => {
      db.prepare('INSERT INTO kv VALUES (?, ?)').run('a', '1')
    })
    const bad = store.write(db => {
      db.prepare('INSERT INTO kv VALUES (?, ?)').run('b', null)
    })
    const ok2 = store.write(db => {
      db.prepare('INSERT INTO kv VALUES (?, ?)').run('c', '3')
    })
    await ok1
    await ok2
    await assert.rejects(bad, /NOT NULL/)
    const keys = (store.db.prepare('SELECT k FROM kv ORDER BY k').all() as Array<{ k: string }>).map(r => r.k)
    assert.deepEqual(keys, ['a', 'c'])
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a full batch commits early; migrations set user_version; reopen keeps data', async () => {
  const { store, dir } = tempStore(10)
  try {
    const writes = []
    for (let i = 0; i < 25; i++)
      writes.push(
        store.write(db => {
          db.prepare('INSERT INTO kv VALUES (?, ?)').run(`k${i}`, 'v')
        })
      )
    await Promise.all(writes)
    assert.ok(store.stats.commits >= 3)
    assert.equal(store.schemaVersion, 1)
    store.close()
    const again = SqliteStore.open({
      dataDir: dir,
      durability: 'power',
      commitWindowMs: 0,
      commitBatchMax: 10,
      migrations: [{ version: 1, description: 'kv', sql: 'CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)' }]
    })
    assert.equal((again.db.prepare('SELECT count(*) AS n FROM kv').get() as { n: number }).n, 25)
    again.close()
    await assert.rejects(
      again.write(() => {}),
      /after close/
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('durability maps to synchronous: process = NORMAL (1), power = FULL (2), WAL in both', () => {
  for (const [durability, expected] of [
    ['process', 1],
    ['power', 2]
  ] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-store-'))
    const store = SqliteStore.open({ dataDir: dir, durability, commitWindowMs: 0, commitBatchMax: 10, migrations: [] })
    try {
      assert.equal(store.db.pragma('synchronous', { simple: true }), expected)
      assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal')
    } finally {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
})

test('a deferred write rides on the next commit, or commits alone after deferredCommitMs; close commits it', async () => {
  // Long enough that a loaded machine (tests run two at a time) does not reach it within one event-loop turn.
  const { store, dir } = tempStore(1000, { deferredCommitMs: 250 })
  const put = (k: string) => (db: import('better-sqlite3').Database) => {
    db.prepare('INSERT INTO kv VALUES (?, ?)').run(k, 'v')
  }
  const rows = () => (store.db.prepare('SELECT count(*) AS n FROM kv').get() as { n: number }).n
  try {
    // Carried: the deferred one and a later ordinary write share one commit, in the order queued.
    const before = store.stats.commits
    const deferred = store.writeDeferred(put('a'))
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(rows(), 0, 'a deferred write alone is not committed within the turn')
    await Promise.all([deferred, store.write(put('b'))])
    assert.equal(store.stats.commits - before, 1)
    assert.equal(rows(), 2)

    // Alone: committed by the timer, no sooner than deferredCommitMs.
    const startedMs = performance.now()
    await store.writeDeferred(put('c'))
    assert.ok(performance.now() - startedMs >= 240, 'waited for another write first')
    assert.equal(rows(), 3)

    // A clean close commits what is deferred.
    void store.writeDeferred(put('d'))
    store.close()
    const again = SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 1000, migrations: [] })
    assert.equal((again.db.prepare('SELECT count(*) AS n FROM kv').get() as { n: number }).n, 4)
    again.close()
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('together: writes queued inside share one commit even past commitBatchMax; the full batch commits when it returns', async () => {
  const { store, dir } = tempStore(3, { deferredCommitMs: 250 })
  const put = (k: string) => (db: import('better-sqlite3').Database) => {
    db.prepare('INSERT INTO kv VALUES (?, ?)').run(k, 'v')
  }
  const committed = (k: string): boolean => store.db.prepare('SELECT 1 FROM kv WHERE k = ?').get(k) !== undefined
  try {
    const first = store.write(put('a'))
    const second = store.write(put('b'))
    const before = store.stats.commits
    const inside: Array<Promise<void>> = []
    store.together(() => {
      // The third write would commit the batch at once, before the deferred one that must go with it.
      inside.push(store.write(put('c')))
      assert.equal(store.stats.commits, before, 'no early commit inside')
      inside.push(store.writeDeferred(put('d')))
      inside.push(store.write(put('e')))
      assert.equal(committed('c'), false)
    })
    assert.equal(store.stats.commits - before, 1, 'the full batch committed once, as together returned')
    assert.ok(['a', 'b', 'c', 'd', 'e'].every(committed))
    await Promise.all([first, second, ...inside])
  } finally {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
