// The file's definitions against the store: what the file adds, changes or drops is applied at start;
// what it left alone keeps its runtime state (a changed password, revoked permissions, a deleted user).
import { describe, test, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '../storage/sqlite-store.ts'
import { AccessStore } from './access-store.ts'
import { seedDefinitions, type Definitions } from './seed-definitions.ts'

const open = (dir: string): SqliteStore => SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 1000 })
const full = { configure: '.*', write: '.*', read: '.*' }

function defs(over: Partial<Definitions> = {}): Definitions {
  return {
    vhosts: ['/'],
    users: [{ name: 'alice', passwordHash: 'hash-1', scramSha256: null, tags: [] }],
    permissions: [{ user: 'alice', vhost: '/', ...full }],
    topicPermissions: [{ user: 'alice', vhost: '/', exchange: 'amq.topic', write: '^alice\\.', read: '.*' }],
    ...over
  }
}

describe('seeding the store from the configuration file', () => {
  let dir: string
  let sqlite: SqliteStore
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-seed-'))
    sqlite = open(dir)
  })
  afterEach(() => {
    sqlite.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** A restart: the store reopened, then seeded with the file's definitions. */
  async function start(d: Definitions): Promise<AccessStore> {
    sqlite.close()
    sqlite = open(dir)
    const access = new AccessStore(sqlite)
    await seedDefinitions(access, sqlite, d)
    return access
  }

  test('a first start applies everything', async () => {
    const access = await start(defs())
    assert.deepEqual(access.vhosts(), ['/'])
    assert.equal(access.user('alice')?.passwordHash, 'hash-1')
    assert.deepEqual(access.permissions('alice', '/'), full)
    assert.equal(access.topicPermission('alice', '/', 'amq.topic')?.write, '^alice\\.')
  })

  test('runtime changes to definitions the file left alone survive restarts', async () => {
    let access = await start(defs())
    await access.putUser({ name: 'alice', passwordHash: 'hash-runtime', scramSha256: null, tags: ['monitoring'] })
    await access.setPermissions('alice', '/', { configure: '', write: '.*', read: '.*' })
    await access.clearTopicPermissions('alice', '/')
    await access.addVhost('runtime-vhost')
    access = await start(defs())
    access = await start(defs())
    assert.equal(access.user('alice')?.passwordHash, 'hash-runtime')
    assert.deepEqual(access.user('alice')?.tags, ['monitoring'])
    assert.equal(access.permissions('alice', '/')?.configure, '')
    assert.equal(access.topicPermission('alice', '/', 'amq.topic'), undefined)
    assert.deepEqual(access.vhosts(), ['/', 'runtime-vhost'])
  })

  test('a user deleted at runtime stays deleted while the file does not change it', async () => {
    let access = await start(defs())
    await access.deleteUser('alice')
    access = await start(defs())
    assert.equal(access.user('alice'), undefined)
  })

  test('a definition the file changes wins over the runtime change, and brings back what belongs to it', async () => {
    let access = await start(defs())
    await access.putUser({ name: 'alice', passwordHash: 'hash-runtime', scramSha256: null, tags: [] })
    access = await start(defs({ users: [{ name: 'alice', passwordHash: 'hash-2', scramSha256: null, tags: [] }] }))
    assert.equal(access.user('alice')?.passwordHash, 'hash-2')
    await access.deleteUser('alice')
    access = await start(defs({ users: [{ name: 'alice', passwordHash: 'hash-3', scramSha256: null, tags: [] }] }))
    assert.equal(access.user('alice')?.passwordHash, 'hash-3')
    assert.deepEqual(access.permissions('alice', '/'), full, 'the re-created user gets its file permissions again')
    assert.ok(access.topicPermission('alice', '/', 'amq.topic'))
  })

  test('a definition dropped from the file is deleted; a user added at runtime is not touched', async () => {
    let access = await start(defs({ vhosts: ['/', 'old'], users: [...defs().users, { name: 'bob', passwordHash: 'h', scramSha256: null, tags: [] }] }))
    await access.putUser({ name: 'carol', passwordHash: 'h', scramSha256: null, tags: [] })
    access = await start(defs({ topicPermissions: [] }))
    assert.equal(access.user('bob'), undefined)
    assert.equal(access.hasVhost('old'), false)
    assert.equal(access.topicPermission('alice', '/', 'amq.topic'), undefined)
    assert.ok(access.user('carol'))
  })

  test('a permission for a vhost that is gone is skipped and tried again at the next start', async () => {
    let access = await start(defs({ vhosts: ['/', 't'], permissions: [] }))
    await access.deleteVhost('t')
    const report = await seedDefinitions(access, sqlite, defs({ vhosts: ['/', 't'], permissions: [{ user: 'alice', vhost: 't', ...full }] }))
    assert.deepEqual(report.skipped, ['permission ["alice","t"]'])
    await access.addVhost('t')
    access = await start(defs({ vhosts: ['/', 't'], permissions: [{ user: 'alice', vhost: 't', ...full }] }))
    assert.deepEqual(access.permissions('alice', 't'), full)
  })
})
