// The access store: every change is in SQLite once its promise resolves (a reopened store has it), a
// principal sees changes at once, and bad input is refused naming what is wrong.
import { describe, test, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '../storage/sqlite-store.ts'
import { AccessStore } from './access-store.ts'
import { AccessControl } from './access-control.ts'
import { hashPassword } from './password-hash.ts'

const open = (dir: string): SqliteStore => SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 1000 })
const hash = hashPassword('secret')

describe('access store', () => {
  let dir: string
  let sqlite: SqliteStore
  let access: AccessStore
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-access-'))
    sqlite = open(dir)
    access = new AccessStore(sqlite)
  })
  afterEach(() => {
    sqlite.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const reopen = (): AccessStore => {
    sqlite.close()
    sqlite = open(dir)
    return new AccessStore(sqlite)
  }

  test('users, vhosts, permissions and topic permissions survive a reopen', async () => {
    await access.addVhost('/')
    await access.addVhost('tenant')
    assert.equal(await access.putUser({ name: 'alice', passwordHash: hash, scramSha256: null, tags: ['monitoring'] }), 'created')
    assert.equal(await access.setPermissions('alice', 'tenant', { configure: '^alice-', write: '.*', read: '' }), 'created')
    assert.equal(await access.setTopicPermission('alice', 'tenant', { exchange: 'amq.topic', write: '^alice\\.', read: '.*' }), 'created')
    const again = reopen()
    assert.deepEqual(again.vhosts(), ['/', 'tenant'])
    assert.deepEqual(again.user('alice'), { name: 'alice', passwordHash: hash, scramSha256: null, tags: ['monitoring'] })
    assert.deepEqual(again.permissions('alice', 'tenant'), { configure: '^alice-', write: '.*', read: '' })
    assert.deepEqual(again.listTopicPermissions(), [{ user: 'alice', vhost: 'tenant', exchange: 'amq.topic', write: '^alice\\.', read: '.*' }])
  })

  test('a second put updates; clearing and deleting survive a reopen too', async () => {
    await access.addVhost('/')
    await access.putUser({ name: 'bob', passwordHash: hash, scramSha256: null, tags: [] })
    assert.equal(await access.putUser({ name: 'bob', passwordHash: hash, scramSha256: null, tags: ['administrator'] }), 'updated')
    await access.setPermissions('bob', '/', { configure: '.*', write: '.*', read: '.*' })
    await access.setTopicPermission('bob', '/', { exchange: 'amq.topic', write: '.*', read: '.*' })
    assert.equal(await access.clearTopicPermissions('bob', '/', 'amq.topic'), true)
    assert.equal(await access.clearPermissions('bob', '/'), true)
    assert.equal(await access.clearPermissions('bob', '/'), false)
    const again = reopen()
    assert.deepEqual(again.user('bob')?.tags, ['administrator'])
    assert.equal(again.permissions('bob', '/'), undefined)
    assert.deepEqual(again.listTopicPermissions(), [])
    assert.equal(await again.deleteUser('bob'), true)
    assert.equal(reopen().user('bob'), undefined)
  })

  test('deleting a user or a vhost takes its permissions along; listeners may refuse a vhost deletion', async () => {
    await access.addVhost('/')
    await access.addVhost('t')
    await access.putUser({ name: 'u', passwordHash: hash, scramSha256: null, tags: [] })
    await access.setPermissions('u', 't', { configure: '.*', write: '.*', read: '.*' })
    await access.setTopicPermission('u', 't', { exchange: 'x', write: '.*', read: '.*' })
    const deleted: string[] = []
    access.addVhostListener({
      vhostAdded: () => {},
      vhostDeleting: name => {
        if (name === '/') throw new Error("vhost '/' is the MQTT vhost")
      },
      vhostDeleted: async name => {
        deleted.push(name)
      }
    })
    await assert.rejects(access.deleteVhost('/'), /MQTT vhost/)
    assert.equal(access.hasVhost('/'), true)
    assert.equal(await access.deleteVhost('t'), true)
    assert.deepEqual(deleted, ['t'])
    assert.equal(access.permissions('u', 't'), undefined)
    await access.addVhost('t')
    assert.equal(access.permissions('u', 't'), undefined, 'a re-created vhost starts without permissions')
    const again = reopen()
    assert.deepEqual(again.listPermissions(), [])
    assert.deepEqual(again.listTopicPermissions(), [])
  })

  test('refused: unknown user or vhost, invalid regex, unknown tag', async () => {
    await access.addVhost('/')
    await access.putUser({ name: 'u', passwordHash: hash, scramSha256: null, tags: [] })
    await assert.rejects(access.setPermissions('nobody', '/', { configure: '', write: '', read: '' }), /no user 'nobody'/)
    await assert.rejects(access.setPermissions('u', 'nope', { configure: '', write: '', read: '' }), /no vhost 'nope'/)
    await assert.rejects(
      access.setPermissions('u', '/', { configure: '(', write: '', read: '' }),
      /configure permission '\(' is not a valid regular expression/
    )
    await assert.rejects(access.setTopicPermission('u', '/', { exchange: 'amq.topic', write: '[', read: '' }), /write permission '\[' is not a valid/)
    await assert.rejects(access.putUser({ name: 'v', passwordHash: hash, scramSha256: null, tags: ['root' as never] }), /unknown user tag 'root'/)
  })

  test('a principal sees changes at once; a deleted user has no access left', async () => {
    await access.addVhost('/')
    await access.putUser({ name: 'u', passwordHash: hash, scramSha256: null, tags: [] })
    const p = access.principal('u')
    assert.ok(p)
    assert.equal(p.permissions('/'), undefined)
    await access.setPermissions('u', '/', { configure: '', write: '.*', read: '' })
    assert.equal(p.permissions('/')?.write, '.*')
    await access.putUser({ name: 'u', passwordHash: hash, scramSha256: null, tags: ['monitoring'] })
    assert.deepEqual(p.tags, ['monitoring'])
    await access.deleteUser('u')
    assert.equal(p.permissions('/'), undefined)
  })
})

describe('access control: logins and guest', () => {
  let dir: string
  let sqlite: SqliteStore
  let store: AccessStore
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-access-'))
    sqlite = open(dir)
    store = new AccessStore(sqlite)
    await store.addVhost('/')
    await store.putUser({ name: 'alice', passwordHash: hash, scramSha256: null, tags: [] })
  })
  afterEach(() => {
    sqlite.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test("a stored user logs in with its password; others are refused with RabbitMQ's words", async () => {
    const ac = new AccessControl({ store, guestEnabled: true })
    const ok = await ac.login('alice', 'secret', '10.0.0.1')
    assert.ok(ok.ok && ok.principal.username === 'alice')
    assert.deepEqual(await ac.login('alice', 'wrong', '10.0.0.1'), { ok: false, reason: "user 'alice' - invalid credentials" })
    assert.deepEqual(await ac.login('mallory', 'x', '127.0.0.1'), { ok: false, reason: "user 'mallory' - invalid credentials" })
  })

  test('guest/guest: loopback only, administrator, full permissions on /; off when disabled or when a user named guest exists', async () => {
    const ac = new AccessControl({ store, guestEnabled: true })
    const guest = await ac.login('guest', 'guest', '::ffff:127.0.0.1')
    assert.ok(guest.ok)
    assert.deepEqual(guest.principal.tags, ['administrator'])
    assert.deepEqual(guest.principal.permissions('/'), { configure: '.*', write: '.*', read: '.*' })
    assert.equal(guest.principal.permissions('other'), undefined)
    assert.deepEqual(await ac.login('guest', 'guest', '10.1.2.3'), { ok: false, reason: "user 'guest' can only connect via localhost" })
    const off = new AccessControl({ store, guestEnabled: false })
    assert.deepEqual(await off.login('guest', 'guest', '127.0.0.1'), { ok: false, reason: "user 'guest' - invalid credentials" })
    await store.putUser({ name: 'guest', passwordHash: hashPassword('other'), scramSha256: null, tags: [] })
    assert.equal((await ac.login('guest', 'guest', '127.0.0.1')).ok, false)
    assert.equal((await ac.login('guest', 'other', '10.1.2.3')).ok, true, 'a defined guest is an ordinary user')
  })

  test('vhost access needs the vhost and some permissions in it', async () => {
    const ac = new AccessControl({ store, guestEnabled: true })
    const alice = ac.principal('alice')
    assert.ok(alice)
    assert.equal(ac.vhostAccess(alice, '/', {}), undefined)
    await store.setPermissions('alice', '/', { configure: '', write: '', read: '' })
    const va = ac.vhostAccess(alice, '/', { username: 'alice' })
    assert.ok(va, "a permission row, even of three '', is access to the vhost")
    assert.throws(() => va.check('read', 'queue', 'q'), /read access to queue 'q' in vhost '\/' refused for user 'alice'/)
    await store.setPermissions('alice', '/', { configure: '', write: '', read: '^q$' })
    va.check('read', 'queue', 'q') // remembered answers are dropped when the definitions change
    assert.equal(ac.vhostAccess(alice, 'nope', {}), undefined)
  })
})
