// Per-vhost and per-user limits set at runtime, as RabbitMQ's /api/vhost-limits and /api/user-limits:
// set, read and cleared over HTTP (401 without credentials, 403 for monitoring writing), enforced on
// AMQP (530 NOT_ALLOWED for connections and channels, 406 PRECONDITION_FAILED for queues, in RabbitMQ's
// words) and MQTT (CONNACK 0x97 Quota exceeded, 3.1.1: 3 Server unavailable), kept across a restart.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestBroker, type ConfigPatch, type TestBroker } from './support/test-broker.ts'
import { adminFetch, basicAuthorization } from './support/admin-http.ts'
import { channel, closeQuietly, connect as amqpConnect, eventually, expectChannelClosed, expectConnectionClosed } from './support/amqp-helpers.ts'
import { connect as mqttConnect, end } from './support/mqtt-helpers.ts'
import { RawAmqp } from './support/raw-amqp.ts'
import { hashPassword } from '../core/auth/password-hash.ts'
import { ctlCommand } from '../gateway/ctl/ctl-command.ts'
import { PassThrough } from 'node:stream'

const hash = hashPassword('pw')
const admin = basicAuthorization('admin', 'pw')
const monitor = basicAuthorization('mon', 'pw')

const config: ConfigPatch = c => {
  c.amqp.vhosts = ['/', 'lim']
  c.auth.users = [
    { username: 'admin', passwordHash: hash, tags: ['administrator'], vhosts: ['/', 'lim'] },
    { username: 'mon', passwordHash: hash, tags: ['monitoring'], vhosts: ['/'] },
    { username: 'app', passwordHash: hash, vhosts: ['/', 'lim'] }
  ]
}

describe('per-vhost and per-user limits', { timeout: 120_000 }, () => {
  let dir: string
  let broker: TestBroker
  const api = (path: string, init: RequestInit = {}, auth = admin): Promise<Response> =>
    adminFetch(`${broker.adminUrl}${path}`, { ...init, headers: { authorization: auth, 'content-type': 'application/json', ...(init.headers ?? {}) } })
  const put = (path: string, value: unknown, auth = admin): Promise<Response> => api(path, { method: 'PUT', body: JSON.stringify({ value }) }, auth)
  const del = (path: string): Promise<Response> => api(path, { method: 'DELETE' })
  const amqpUrl = (vhost: string, user = 'app'): string => `amqp://${user}:pw@127.0.0.1:${broker.node.ports.amqp}/${encodeURIComponent(vhost)}`
  const mqttRefusal = async (username: string, protocolVersion: 4 | 5, clientId: string, clean = true): Promise<number | undefined> => {
    try {
      const c = await mqttConnect(broker.mqttUrl, { clientId, username, password: 'pw', protocolVersion, clean }, 5000)
      await end(c)
      return undefined
    } catch (err) {
      return (err as { code?: number }).code
    }
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-object-limits-'))
    broker = await startTestBroker(config, dir)
  })
  after(async () => {
    await broker.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('HTTP: set, read and clear as RabbitMQ; 401 without credentials, 403 for monitoring writing, 400 and 404 naming the cause', async () => {
    assert.equal((await fetch(`${broker.adminUrl}/api/vhost-limits`)).status, 401)
    assert.equal((await fetch(`${broker.adminUrl}/api/user-limits`)).status, 401)
    assert.equal((await put('/api/vhost-limits/lim/max-queues', 5, monitor)).status, 403)
    assert.equal((await put('/api/user-limits/app/max-channels', 5, monitor)).status, 403)
    assert.equal((await put('/api/vhost-limits/lim/max-queues', 5)).status, 204)
    assert.equal((await put('/api/vhost-limits/lim/max-connections', 7)).status, 204)
    assert.equal((await put('/api/user-limits/app/max-channels', 9)).status, 204)
    const vhostLimits = await (await api('/api/vhost-limits', {}, monitor)).json()
    assert.deepEqual(vhostLimits, [{ vhost: 'lim', value: { 'max-queues': 5, 'max-connections': 7 } }])
    assert.deepEqual(await (await api('/api/vhost-limits/lim')).json(), vhostLimits)
    assert.deepEqual(await (await api('/api/vhost-limits/%2F')).json(), [])
    assert.deepEqual(await (await api('/api/user-limits', {}, monitor)).json(), [{ user: 'app', value: { 'max-channels': 9 } }])
    assert.deepEqual(await (await api('/api/user-limits/app')).json(), [{ user: 'app', value: { 'max-channels': 9 } }])

    const unknown = await put('/api/vhost-limits/lim/max-channels', 1)
    assert.equal(unknown.status, 400)
    assert.match(((await unknown.json()) as { reason: string }).reason, /unknown vhost limit 'max-channels'; known vhost limits: max-connections, max-queues/)
    const notInteger = await put('/api/user-limits/app/max-connections', 'ten')
    assert.equal(notInteger.status, 400)
    assert.equal((await api('/api/user-limits/app/max-connections', { method: 'PUT', body: '{}' })).status, 400)
    assert.equal((await put('/api/vhost-limits/nowhere/max-queues', 1)).status, 404)
    assert.equal((await put('/api/user-limits/nobody/max-channels', 1)).status, 404)

    assert.equal((await del('/api/vhost-limits/lim/max-queues')).status, 204)
    assert.equal((await put('/api/vhost-limits/lim/max-connections', -1)).status, 204) // -1 is no limit
    assert.equal((await del('/api/user-limits/app/max-channels')).status, 204)
    assert.deepEqual(await (await api('/api/vhost-limits')).json(), [])
    assert.deepEqual(await (await api('/api/user-limits')).json(), [])
  })

  test('vhost max-connections: AMQP 530 and MQTT CONNACK 0x97 / 3 at the limit; 0 refuses all', async () => {
    assert.equal((await put('/api/vhost-limits/lim/max-connections', 1)).status, 204)
    const first = await amqpConnect(amqpUrl('lim'))
    try {
      const refused = await RawAmqp.tryOpen(broker.node.ports.amqp, {}, { user: 'app', password: 'pw', vhost: 'lim' })
      assert.ok('close' in refused)
      assert.deepEqual(
        [refused.close.replyCode, refused.close.replyText],
        [530, "NOT_ALLOWED - access to vhost 'lim' refused for user 'app': connection limit (1) is reached"]
      )
      refused.client.destroy()
      assert.equal(await mqttRefusal('lim:app', 5, 'lim-v5'), 0x97)
      assert.equal(await mqttRefusal('lim:app', 4, 'lim-v4'), 3)
      await closeQuietly(await amqpConnect(amqpUrl('/'))) // another vhost is not limited
    } finally {
      await closeQuietly(first)
    }
    assert.equal((await put('/api/vhost-limits/lim/max-connections', 0)).status, 204)
    assert.equal(await mqttRefusal('lim:app', 5, 'lim-zero'), 0x97)
    const refusedAll = await RawAmqp.tryOpen(broker.node.ports.amqp, {}, { user: 'app', password: 'pw', vhost: 'lim' })
    assert.ok('close' in refusedAll && refusedAll.close.replyCode === 530)
    refusedAll.client.destroy()
    assert.equal((await del('/api/vhost-limits/lim/max-connections')).status, 204)
    await closeQuietly(await amqpConnect(amqpUrl('lim')))
  })

  test('user max-connections: counted over both protocols, refused with 530 and 0x97; a closed connection frees its place', async () => {
    assert.equal((await put('/api/user-limits/app/max-connections', 1)).status, 204)
    const m = await mqttConnect(broker.mqttUrl, { clientId: 'app-1', username: 'app', password: 'pw' })
    try {
      const refused = await RawAmqp.tryOpen(broker.node.ports.amqp, {}, { user: 'app', password: 'pw', vhost: '/' })
      assert.ok('close' in refused)
      assert.deepEqual(
        [refused.close.replyCode, refused.close.replyText],
        [530, "NOT_ALLOWED - connection refused for user 'app': user connection limit (1) is reached"]
      )
      refused.client.destroy()
      assert.equal(await mqttRefusal('app', 5, 'app-2'), 0x97)
      await closeQuietly(await amqpConnect(amqpUrl('/', 'admin'))) // another user is not limited
    } finally {
      await end(m)
    }
    await eventually('the closed MQTT connection frees its place', async () => (await mqttRefusal('app', 5, 'app-3')) === undefined)
    assert.equal((await del('/api/user-limits/app/max-connections')).status, 204)
  })

  test("user max-channels: counted over all the user's connections; one over is a connection error 530; a closed channel frees its place", async () => {
    assert.equal((await put('/api/user-limits/app/max-channels', 2)).status, 204)
    const a = await amqpConnect(amqpUrl('/'))
    const b = await amqpConnect(amqpUrl('/'))
    try {
      await a.createChannel()
      await b.createChannel()
      await expectConnectionClosed(
        a,
        () => a.createChannel(),
        530,
        /number of channels opened for user 'app' has reached the maximum allowed user limit of \(2\)/
      )
      // a's channels went with it: b opens one more, then is at the limit again.
      await b.createChannel()
      await expectConnectionClosed(b, () => b.createChannel(), 530)
      const c = await amqpConnect(amqpUrl('/'))
      const ch = await c.createChannel()
      await ch.close()
      await c.createChannel() // the closed channel's place
      await closeQuietly(c)
    } finally {
      await closeQuietly(a, b)
    }
    assert.equal((await del('/api/user-limits/app/max-channels')).status, 204)
  })

  test("vhost max-queues: queue.declare over it is 406 in RabbitMQ's words; a new MQTT session is a queue and is refused 0x97 / 3", async () => {
    const queuesNow = ((await (await api('/api/queues/lim')).json()) as unknown[]).length
    assert.equal((await put('/api/vhost-limits/lim/max-queues', queuesNow + 1)).status, 204)
    const conn = await amqpConnect(amqpUrl('lim'))
    try {
      const ch = await channel(conn)
      await ch.assertQueue('q-one')
      await ch.assertQueue('q-one') // declaring an existing queue again is no new queue
      await expectChannelClosed(ch, () => ch.assertQueue('q-two'), 406, /cannot declare queue 'q-two': queue limit in vhost 'lim' \(\d+\) is reached/)
      assert.equal(await mqttRefusal('lim:app', 5, 'lim-session-5', false), 0x97)
      assert.equal(await mqttRefusal('lim:app', 4, 'lim-session-4', false), 3)
      const ch2 = await channel(conn)
      await ch2.deleteQueue('q-one')
      await ch2.assertQueue('q-two') // a deleted queue frees its place
      await ch2.deleteQueue('q-two')
    } finally {
      await closeQuietly(conn)
    }
    assert.equal((await del('/api/vhost-limits/lim/max-queues')).status, 204)
  })

  test('a limit survives a restart and is enforced after it', async () => {
    assert.equal((await put('/api/vhost-limits/lim/max-connections', 0)).status, 204)
    assert.equal((await put('/api/user-limits/app/max-channels', 1)).status, 204)
    await broker.stop()
    broker = await startTestBroker(config, dir)
    assert.deepEqual(await (await api('/api/vhost-limits')).json(), [{ vhost: 'lim', value: { 'max-connections': 0 } }])
    assert.deepEqual(await (await api('/api/user-limits')).json(), [{ user: 'app', value: { 'max-channels': 1 } }])
    assert.equal(await mqttRefusal('lim:app', 5, 'after-restart'), 0x97)
    const conn = await amqpConnect(amqpUrl('/'))
    await conn.createChannel()
    await expectConnectionClosed(conn, () => conn.createChannel(), 530)
    await closeQuietly(conn)
    assert.equal((await del('/api/vhost-limits/lim/max-connections')).status, 204)
    assert.equal((await del('/api/user-limits/app/max-channels')).status, 204)
  })

  test("definitions: export carries vhost limits as RabbitMQ's vhost-limits parameter and user limits in users[].limits; an import restores them", async () => {
    assert.equal((await put('/api/vhost-limits/lim/max-queues', 40)).status, 204)
    assert.equal((await put('/api/user-limits/app/max-connections', 6)).status, 204)
    const exported = (await (await api('/api/definitions')).json()) as {
      parameters: unknown[]
      users: Array<{ name: string; limits: unknown }>
    }
    assert.deepEqual(exported.parameters, [{ vhost: 'lim', component: 'vhost-limits', name: 'limits', value: { 'max-queues': 40 } }])
    assert.deepEqual(exported.users.find(u => u.name === 'app')?.limits, { 'max-connections': 6 })
    assert.deepEqual(exported.users.find(u => u.name === 'admin')?.limits, {})
    const vhostOnly = (await (await api('/api/definitions/lim')).json()) as { parameters: unknown[] }
    assert.deepEqual(vhostOnly.parameters, exported.parameters)

    assert.equal((await del('/api/vhost-limits/lim/max-queues')).status, 204)
    assert.equal((await del('/api/user-limits/app/max-connections')).status, 204)
    assert.deepEqual(await (await api('/api/vhost-limits')).json(), [])
    const imported = await api('/api/definitions', { method: 'POST', body: JSON.stringify(exported) })
    const body = (await imported.json()) as { imported: Record<string, number>; unsupported: Array<{ kind: string }> }
    assert.equal(imported.status, 200, JSON.stringify(body))
    assert.equal(body.imported.vhost_limits, 1)
    assert.equal(body.imported.user_limits, 1)
    assert.ok(!body.unsupported.some(u => u.kind.includes('limits') || u.kind === 'parameters'), JSON.stringify(body.unsupported))
    assert.deepEqual(await (await api('/api/vhost-limits')).json(), [{ vhost: 'lim', value: { 'max-queues': 40 } }])
    assert.deepEqual(await (await api('/api/user-limits')).json(), [{ user: 'app', value: { 'max-connections': 6 } }])
    assert.equal((await del('/api/vhost-limits/lim/max-queues')).status, 204)
    assert.equal((await del('/api/user-limits/app/max-connections')).status, 204)
  })

  test("a deleted vhost's or user's limits go with it", async () => {
    assert.equal((await api('/api/users/temp', { method: 'PUT', body: JSON.stringify({ password: 'pw', tags: '' }) })).status, 201)
    assert.equal((await put('/api/user-limits/temp/max-channels', 1)).status, 204)
    assert.equal((await api('/api/users/temp', { method: 'DELETE' })).status, 204)
    assert.deepEqual(await (await api('/api/user-limits')).json(), [])
    assert.equal((await api('/api/vhosts/gone', { method: 'PUT', body: '{}' })).status, 201)
    assert.equal((await put('/api/vhost-limits/gone/max-queues', 1)).status, 204)
    assert.equal((await api('/api/vhosts/gone', { method: 'DELETE' })).status, 204)
    await eventually('the vhost deleted', async () => (await api('/api/vhosts/gone')).status === 404)
    assert.equal((await api('/api/vhosts/gone', { method: 'PUT', body: '{}' })).status, 201)
    assert.deepEqual(await (await api('/api/vhost-limits/gone')).json(), [])
  })

  test('wharf ctl: set-vhost-limits, set-user-limits, list, clear-*; a monitoring user is refused (exit 1), bad JSON is a usage error (exit 2)', async () => {
    const ctl = async (args: string[], user = 'admin'): Promise<{ code: number; stdout: string; stderr: string }> => {
      const stdout = new PassThrough()
      const stderr = new PassThrough()
      let out = ''
      let err = ''
      stdout.on('data', c => {
        out += String(c)
      })
      stderr.on('data', c => {
        err += String(c)
      })
      const code = await ctlCommand(
        args,
        { stdin: new PassThrough().end(), stdout, stderr },
        { WHARF_URL: broker.adminUrl, WHARF_USER: user, WHARF_PASSWORD: 'pw' }
      )
      return { code, stdout: out, stderr: err }
    }
    assert.equal((await ctl(['set-vhost-limits', '{"max-connections": 10, "max-queues": 50}', '--vhost', 'lim'])).code, 0)
    assert.equal((await ctl(['set-user-limits', 'app', '{"max-channels": 20}'])).code, 0)
    assert.deepEqual(await (await api('/api/vhost-limits/lim')).json(), [{ vhost: 'lim', value: { 'max-connections': 10, 'max-queues': 50 } }])
    const listed = await ctl(['list', 'user-limits'], 'mon')
    assert.equal(listed.code, 0)
    assert.match(listed.stdout, /^USER\s+LIMITS\s*\napp\s+\{"max-channels":20\}/)
    const json = await ctl(['list', 'vhost-limits', '--json'])
    assert.deepEqual(JSON.parse(json.stdout), [{ vhost: 'lim', value: { 'max-connections': 10, 'max-queues': 50 } }])

    const refused = await ctl(['set-user-limits', 'app', '{"max-channels": 1}'], 'mon')
    assert.equal(refused.code, 1)
    assert.equal((await ctl(['set-user-limits', 'app', 'not json'])).code, 2)
    const unknown = await ctl(['set-vhost-limits', '{"max-channels": 1}', '--vhost', 'lim'])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /unknown vhost limit 'max-channels'/)

    assert.equal((await ctl(['clear-vhost-limits', 'max-queues', '--vhost', 'lim'])).code, 0)
    assert.deepEqual(await (await api('/api/vhost-limits/lim')).json(), [{ vhost: 'lim', value: { 'max-connections': 10 } }])
    assert.equal((await ctl(['clear-vhost-limits', '--vhost', 'lim'])).code, 0)
    assert.equal((await ctl(['clear-user-limits', 'app'])).code, 0)
    assert.deepEqual(await (await api('/api/vhost-limits')).json(), [])
    assert.deepEqual(await (await api('/api/user-limits')).json(), [])
  })
})
