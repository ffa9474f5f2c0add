// The admin API's authentication, through fetch and curl: HTTP Basic with Wharf users, tags deciding
// (monitoring reads, administrator writes), /healthz and /readyz open, guest from loopback an
// administrator while it is enabled, and the users/vhosts/permissions resources RabbitMQ's
// management API has.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { adminFetch, basicAuthorization } from './support/admin-http.ts'
import { connect as amqpConnect, closeQuietly } from './support/amqp-helpers.ts'
import { connect as mqttConnect } from './support/mqtt-helpers.ts'
import { hashPassword } from '../core/auth/password-hash.ts'

const hash = hashPassword('pw')

function curl(args: string[]): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-D', '-', ...args], { timeout: 10_000 }, (err, stdout) => {
      if (err !== null) {
        reject(err)
        return
      }
      const [head = '', body = ''] = stdout.split(/\r\n\r\n/, 2)
      resolve({ status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(head)?.[1]), headers: head, body })
    })
  })
}

describe('admin API authentication', { timeout: 60_000 }, () => {
  let broker: TestBroker
  const as = (user: string, password = 'pw'): Record<string, string> => ({ authorization: basicAuthorization(user, password) })

  before(async () => {
    broker = await startTestBroker(c => {
      c.auth.users = [
        { username: 'ops', passwordHash: hash, tags: ['administrator'] },
        { username: 'grafana', passwordHash: hash, tags: ['monitoring'] },
        { username: 'device', passwordHash: hash }
      ]
    })
  })
  after(async () => {
    await broker.close()
  })

  test('/healthz and /readyz answer without credentials', async () => {
    for (const path of ['/healthz', '/readyz']) assert.equal((await fetch(`${broker.adminUrl}${path}`)).status, 200, path)
  })

  test('without credentials: 401 with WWW-Authenticate: Basic realm="Wharf" (curl)', async () => {
    for (const path of ['/api/overview', '/metrics', '/api/queues', '/live', '/api/users']) {
      const res = await curl([`${broker.adminUrl}${path}`])
      assert.equal(res.status, 401, path)
      assert.match(res.headers, /^www-authenticate: Basic realm="Wharf"\r?$/im, path)
    }
  })

  test('wrong password or unknown user: 401', async () => {
    assert.equal((await fetch(`${broker.adminUrl}/api/overview`, { headers: as('ops', 'nope') })).status, 401)
    assert.equal((await fetch(`${broker.adminUrl}/api/overview`, { headers: as('mallory') })).status, 401)
    assert.equal((await curl(['-u', 'ops:nope', `${broker.adminUrl}/api/overview`])).status, 401)
  })

  test('monitoring reads (200) and may not write (403); a user without tags may not read (403)', async () => {
    for (const path of ['/api/overview', '/api/connections', '/api/queues', '/metrics', '/api/users']) {
      assert.equal((await fetch(`${broker.adminUrl}${path}`, { headers: as('grafana') })).status, 200, path)
    }
    const put = await curl([
      '-u',
      'grafana:pw',
      '-X',
      'PUT',
      '-H',
      'content-type: application/json',
      '-d',
      '{"password":"x","tags":""}',
      `${broker.adminUrl}/api/users/sneaky`
    ])
    assert.equal(put.status, 403)
    assert.match(put.body, /user 'grafana' may not change \/api\/users\/sneaky: needs tag administrator/)
    assert.equal(broker.node.access.store.user('sneaky'), undefined)
    assert.equal((await fetch(`${broker.adminUrl}/api/overview`, { headers: as('device') })).status, 403)
    const me = await fetch(`${broker.adminUrl}/api/whoami`, { headers: as('grafana') })
    assert.deepEqual(await me.json(), { name: 'grafana', tags: ['monitoring'] })
  })

  test('an administrator writes: users, vhosts, permissions and topic permissions (201 created, 204 updated or deleted)', async () => {
    const json = (body: unknown): RequestInit => ({ method: 'PUT', headers: { ...as('ops'), 'content-type': 'application/json' }, body: JSON.stringify(body) })
    assert.equal((await fetch(`${broker.adminUrl}/api/vhosts/staging`, json({}))).status, 201)
    assert.equal((await fetch(`${broker.adminUrl}/api/users/app`, json({ password: 's3cret', tags: 'monitoring' }))).status, 201)
    assert.equal((await fetch(`${broker.adminUrl}/api/users/app`, json({ tags: ['monitoring', 'management'] }))).status, 204)
    assert.equal((await fetch(`${broker.adminUrl}/api/permissions/staging/app`, json({ configure: '^app-', write: '.*', read: '.*' }))).status, 201)
    assert.equal(
      (await fetch(`${broker.adminUrl}/api/topic-permissions/staging/app`, json({ exchange: 'amq.topic', write: '^app\\.', read: '.*' }))).status,
      201
    )
    const user = (await (await fetch(`${broker.adminUrl}/api/users/app`, { headers: as('ops') })).json()) as Record<string, unknown>
    // RabbitMQ's fields (the hash is shown to administrators), and Wharf's has_* flags.
    const { password_hash: hash, ...rest } = user
    assert.deepEqual(rest, {
      name: 'app',
      tags: ['monitoring', 'management'],
      limits: {},
      hashing_algorithm: 'wharf_scrypt',
      has_password: true,
      has_scram_sha256: false
    })
    assert.match(String(hash), /^scrypt\$/)
    const perms = await (await adminFetch(`${broker.adminUrl}/api/permissions/staging/app`)).json()
    assert.deepEqual(perms, { user: 'app', vhost: 'staging', configure: '^app-', write: '.*', read: '.*' })
    // The new user logs in over AMQP into the new vhost and is held to its permissions.
    const conn = await amqpConnect(`amqp://app:s3cret@127.0.0.1:${broker.node.ports.amqp}/staging`)
    try {
      const ch = await conn.createChannel()
      await ch.assertQueue('app-q')
      await ch.close()
    } finally {
      await closeQuietly(conn)
    }
    const bad = await fetch(`${broker.adminUrl}/api/permissions/staging/app`, json({ configure: '(', write: '', read: '' }))
    assert.equal(bad.status, 400)
    assert.match(((await bad.json()) as { reason: string }).reason, /configure permission '\(' is not a valid regular expression/)
    assert.equal((await fetch(`${broker.adminUrl}/api/permissions/staging/nobody`, json({ configure: '', write: '', read: '' }))).status, 400)
    assert.equal((await fetch(`${broker.adminUrl}/api/users/app`, { method: 'DELETE', headers: as('ops') })).status, 204)
    assert.equal((await fetch(`${broker.adminUrl}/api/users/app`, { headers: as('ops') })).status, 404)
    assert.equal((await fetch(`${broker.adminUrl}/api/vhosts/staging`, { method: 'DELETE', headers: as('ops') })).status, 204)
    assert.equal(broker.node.broker.vhost('staging'), undefined, 'the model forgot the vhost and its queues')
    const mqttVhost = await fetch(`${broker.adminUrl}/api/vhosts/%2F`, { method: 'DELETE', headers: as('ops') })
    assert.equal(mqttVhost.status, 400)
    assert.match(((await mqttVhost.json()) as { reason: string }).reason, /it is the vhost of an MQTT listener/)
  })

  test('deleting a vhost closes the AMQP connections in it with 320', async () => {
    await broker.node.access.store.addVhost('short-lived')
    await broker.node.access.store.setPermissions('ops', 'short-lived', { configure: '.*', write: '.*', read: '.*' })
    const conn = await amqpConnect(`amqp://ops:pw@127.0.0.1:${broker.node.ports.amqp}/short-lived`)
    const closed = new Promise<{ code?: number; message: string }>(resolve => conn.once('close', resolve))
    assert.equal((await curl(['-u', 'ops:pw', '-X', 'DELETE', `${broker.adminUrl}/api/vhosts/short-lived`])).status, 204)
    const err = await closed
    assert.equal(err.code, 320)
    assert.match(err.message, /CONNECTION_FORCED - vhost 'short-lived' is deleted/)
  })

  test('guest from loopback is an administrator while enabled', async () => {
    assert.equal((await curl(['-u', 'guest:guest', '-X', 'PUT', '-d', '{}', `${broker.adminUrl}/api/vhosts/by-guest`])).status, 201)
    assert.deepEqual(await (await adminFetch(`${broker.adminUrl}/api/whoami`)).json(), { name: 'guest', tags: ['administrator'] })
  })
})

describe('guest disabled', { timeout: 30_000 }, () => {
  test('auth.guest.enabled false: guest is refused by the admin API, AMQP and MQTT alike', async () => {
    const broker = await startTestBroker(c => {
      c.auth.guest.enabled = false
    })
    try {
      assert.equal((await adminFetch(`${broker.adminUrl}/api/overview`)).status, 401)
      await assert.rejects(amqpConnect(broker.amqpUrl), /ACCESS_REFUSED|403/)
      assert.ok(broker.logs.some(l => l.msg === 'login refused' && l.reason === "user 'guest' - invalid credentials"))
      await assert.rejects(
        mqttConnect(broker.mqttUrl, { clientId: 'as-guest', username: 'guest', password: 'guest' }),
        (err: Error & { code?: number }) => err.code === 4
      )
    } finally {
      await broker.close()
    }
  })
})
