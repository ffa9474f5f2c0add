// Users, vhosts and permissions changed at runtime (through the admin API) survive restarts, and the
// configuration file against the store: a definition the file left alone keeps its runtime state,
// one the file changed wins, one deleted at runtime stays deleted.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestBroker, type ConfigPatch, type TestBroker } from './support/test-broker.ts'
import { basicAuthorization } from './support/admin-http.ts'
import { channel, closeQuietly, connect as amqpConnect, expectChannelClosed } from './support/amqp-helpers.ts'
import { connect as mqttConnect, end } from './support/mqtt-helpers.ts'
import { hashPassword } from '../core/auth/password-hash.ts'

const fileHash = hashPassword('from-file')
const changedFileHash = hashPassword('changed-in-file')

/** The file: alice (administrator) and bob, on vhost '/'. */
const fileConfig =
  (aliceHash: string): ConfigPatch =>
  c => {
    c.auth.users = [
      { username: 'alice', passwordHash: aliceHash, tags: ['administrator'] },
      { username: 'bob', passwordHash: fileHash }
    ]
  }

describe('access definitions across restarts', { timeout: 90_000 }, () => {
  let dir: string
  let broker: TestBroker | undefined
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-access-restart-'))
  })
  after(async () => {
    await broker?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const restart = async (patch: ConfigPatch): Promise<TestBroker> => {
    await broker?.stop()
    broker = await startTestBroker(patch, dir)
    return broker
  }
  const put = async (b: TestBroker, path: string, body: unknown, password = 'from-file'): Promise<number> =>
    (
      await fetch(`${b.adminUrl}${path}`, {
        method: 'PUT',
        headers: { authorization: basicAuthorization('alice', password), 'content-type': 'application/json' },
        body: JSON.stringify(body)
      })
    ).status
  const amqpUrl = (b: TestBroker, user: string, password: string, vhost = '/'): string =>
    `amqp://${user}:${password}@127.0.0.1:${b.node.ports.amqp}/${encodeURIComponent(vhost)}`
  const canLogIn = async (b: TestBroker, user: string, password: string): Promise<boolean> => {
    try {
      await closeQuietly(await amqpConnect(amqpUrl(b, user, password)))
      return true
    } catch {
      return false
    }
  }

  test('runtime changes made through the admin API are there after a restart', async () => {
    let b = await restart(fileConfig(fileHash))
    assert.equal(await put(b, '/api/users/frank', { password: 'frank-pw' }), 201)
    assert.equal(await put(b, '/api/vhosts/runtime', {}), 201)
    assert.equal(await put(b, '/api/permissions/runtime/frank', { configure: '^frank-', write: '.*', read: '.*' }), 201)
    assert.equal(await put(b, '/api/permissions/%2F/frank', { configure: '^mqtt-session/frank-', write: '.*', read: '.*' }), 201)
    assert.equal(await put(b, '/api/topic-permissions/%2F/frank', { exchange: 'amq.topic', write: '^frank\\.', read: '^frank\\.' }), 201)
    assert.equal(await put(b, '/api/topic-permissions/runtime/frank', { exchange: 'amq.topic', write: '^frank\\.', read: '^frank\\.' }), 201)
    assert.equal(await put(b, '/api/users/alice', { password: 'changed-at-runtime', tags: 'administrator' }), 204)
    const conn = await amqpConnect(amqpUrl(b, 'frank', 'frank-pw', 'runtime'))
    try {
      const ch = await channel(conn)
      await ch.assertQueue('frank-q', { durable: true })
      ch.sendToQueue('frank-q', Buffer.from('kept'), { persistent: true })
      await ch.close()
    } finally {
      await closeQuietly(conn)
    }

    b = await restart(fileConfig(fileHash))
    const again = await amqpConnect(amqpUrl(b, 'frank', 'frank-pw', 'runtime'))
    try {
      const ch = await channel(again)
      const got = await ch.get('frank-q', { noAck: true })
      assert.ok(got !== false && got.content.toString() === 'kept', 'the runtime vhost kept its durable queue and message')
      await expectChannelClosed(
        ch,
        () => ch.assertQueue('not-franks'),
        403,
        /configure access to queue 'not-franks' in vhost 'runtime' refused for user 'frank'/
      )
      const ch2 = await channel(again)
      await expectChannelClosed(
        ch2,
        () => ch2.bindQueue('frank-q', 'amq.topic', '#'),
        403,
        /read access to topic '#' in exchange 'amq\.topic' in vhost 'runtime'/
      )
    } finally {
      await closeQuietly(again)
    }
    const mqtt = await mqttConnect(b.mqttUrl, { clientId: 'frank-1', username: 'frank', password: 'frank-pw' })
    try {
      const granted = await new Promise<number[]>(resolve =>
        mqtt.subscribe(['frank/#', 'other/#'], { qos: 1 }, (_e, _g, p) => resolve((p as unknown as { granted: number[] }).granted))
      )
      assert.deepEqual(granted, [1, 0x80], 'the topic permissions set at runtime hold for MQTT after the restart')
    } finally {
      await end(mqtt)
    }
    assert.equal(await canLogIn(b, 'alice', 'changed-at-runtime'), true, 'the file did not change alice: her runtime password holds')
    assert.equal(await canLogIn(b, 'alice', 'from-file'), false)
  })

  test('a definition the file changes wins over the runtime change at the next start', async () => {
    const b = await restart(fileConfig(changedFileHash))
    assert.equal(await canLogIn(b, 'alice', 'changed-in-file'), true)
    assert.equal(await canLogIn(b, 'alice', 'changed-at-runtime'), false)
    assert.equal(await canLogIn(b, 'frank', 'frank-pw'), true, 'users the file does not define are untouched')
    assert.ok(b.logs.some(l => l.msg === 'access definitions from the configuration applied' && (l.applied as string[]).includes('user ["alice"]')))
  })

  test('a user of the file deleted at runtime stays deleted after a restart', async () => {
    let b = await restart(fileConfig(changedFileHash))
    const del = await fetch(`${b.adminUrl}/api/users/bob`, { method: 'DELETE', headers: { authorization: basicAuthorization('alice', 'changed-in-file') } })
    assert.equal(del.status, 204)
    b = await restart(fileConfig(changedFileHash))
    assert.equal(await canLogIn(b, 'bob', 'from-file'), false)
    assert.equal(b.node.access.store.user('bob'), undefined)
  })
})
