// MQTT clients in several vhosts, as RabbitMQ's MQTT plugin serves them: 'vhost:user' in the CONNECT
// username names the vhost, else the listener's (here mqtt.ws.vhost); a vhost the user has no
// permissions in (or that does not exist) is refused with CONNACK 5 / 0x87. Sessions, retained
// messages and publishes stay in their vhost, across a restart too; AMQP clients of a vhost see its
// MQTT publishes on amq.topic. Through mqtt.js, mosquitto_sub / mosquitto_pub and amqplib.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import type { MqttClient } from 'mqtt'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { closed, collector, connect, end, eventually, sessionPresent, settled } from './support/mqtt-helpers.ts'
import { channel, closeQuietly, connect as amqpConnect, consume } from './support/amqp-helpers.ts'
import { adminFetch } from './support/admin-http.ts'
import { hashPassword } from '../core/auth/password-hash.ts'
import { makeTestPki } from './support/test-pki.ts'
import type { WharfConfig } from '../edge-config/config-types.ts'
import { SqliteStore } from '../core/storage/sqlite-store.ts'
import { migrations } from '../core/storage/migrations.ts'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const password = 'pw'
const hash = hashPassword(password)
type CodeError = Error & { code?: number }

function configure(c: WharfConfig): void {
  c.auth.allowAnonymous = false
  c.amqp.vhosts = ['/', 'b', 'c']
  c.mqtt.ws.vhost = 'b'
  c.auth.users = [
    { username: 'ann', passwordHash: hash },
    { username: 'bob', passwordHash: hash }
  ]
  c.auth.permissions = [
    { user: 'ann', vhost: '/', configure: '.*', write: '.*', read: '.*' },
    { user: 'ann', vhost: 'b', configure: '.*', write: '.*', read: '.*' },
    // bob lives in 'b' only.
    { user: 'bob', vhost: 'b', configure: '.*', write: '.*', read: '.*' }
  ]
}

interface ConnectionJson {
  user: string
  vhost: string
  client_id: string
}

async function mqttConnections(broker: TestBroker): Promise<ConnectionJson[]> {
  const res = await adminFetch(`${broker.adminUrl}/api/connections`)
  assert.equal(res.status, 200)
  return ((await res.json()) as ConnectionJson[]).filter(c => c.client_id !== undefined)
}

function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise(resolve => {
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), output: stdout + stderr })
    )
  })
}

describe('MQTT vhosts', { timeout: 90_000 }, () => {
  let broker: TestBroker
  const as = (username: string, clientId: string, protocolVersion: 4 | 5 = 4, url = broker.mqttUrl): Promise<MqttClient> =>
    connect(url, { clientId, username, password, protocolVersion })

  before(async () => {
    broker = await startTestBroker(configure)
  })
  after(async () => {
    await broker.close()
    assert.deepEqual(
      broker.logs.filter(l => l.level === 'error'),
      [],
      'nothing logged as an error'
    )
  })

  test("'vhost:user' picks the vhost, the listener's vhost is the default, and the management API shows each", async () => {
    const inB = await as('b:ann', 'pick-1')
    const inRoot = await as('ann', 'pick-2', 5)
    const overWs = await as('bob', 'pick-3', 4, broker.wsUrl) // mqtt.ws.vhost: 'b'
    try {
      const byId = new Map((await mqttConnections(broker)).map(c => [c.client_id, c]))
      assert.deepEqual(
        ['pick-1', 'pick-2', 'pick-3'].map(id => [byId.get(id)?.user, byId.get(id)?.vhost]),
        [
          ['ann', 'b'],
          ['ann', '/'],
          ['bob', 'b']
        ]
      )
    } finally {
      await end(inB, inRoot, overWs)
    }
  })

  test('a vhost the user has no permissions in, or that does not exist, is refused: CONNACK 5 (3.1.1) and 0x87 (5.0)', async () => {
    await assert.rejects(as('c:ann', 'no-1'), (err: CodeError) => err.code === 5)
    await assert.rejects(as('c:ann', 'no-2', 5), (err: CodeError) => err.code === 0x87)
    await assert.rejects(as('nowhere:ann', 'no-3', 5), (err: CodeError) => err.code === 0x87)
    // bob has no permissions in '/', the TCP listener's vhost; over WebSocket he is in 'b'.
    await assert.rejects(as('bob', 'no-4'), (err: CodeError) => err.code === 5)
    assert.ok(broker.logs.some(l => l.msg === 'mqtt connect refused' && l.reason === "access to vhost 'c' refused for user 'ann'"))
    assert.ok(broker.logs.some(l => l.msg === 'mqtt connect refused' && l.reason === "access to vhost '/' refused for user 'bob'"))
  })

  test('the same client id in two vhosts is two sessions; publishes and retained messages stay in their vhost', async () => {
    const root = await as('ann', 'twin', 5)
    const b = await as('b:ann', 'twin', 5)
    const rootGot = collector(root)
    const bGot = collector(b)
    try {
      await root.subscribeAsync('iso/#', { qos: 1 })
      await b.subscribeAsync('iso/#', { qos: 1 })
      assert.ok(root.connected && b.connected, 'neither connection took the other over')
      await root.publishAsync('iso/kept', 'root retained', { qos: 1, retain: true })
      await b.publishAsync('iso/live', 'from b', { qos: 1 })
      await rootGot.waitFor(1)
      await bGot.waitFor(1)
      await settled(root)
      await settled(b)
      assert.deepEqual(
        rootGot.messages.map(m => m.payload),
        ['root retained']
      )
      assert.deepEqual(
        bGot.messages.map(m => m.payload),
        ['from b']
      )
    } finally {
      await end(root, b)
    }
    // A new subscriber in 'b' gets no retained message from '/'; one in '/' does.
    const lateB = await as('b:ann', 'late-b', 5)
    const lateRoot = await as('ann', 'late-root', 5)
    try {
      const gotB = collector(lateB)
      const gotRoot = collector(lateRoot)
      await lateB.subscribeAsync('iso/#', { qos: 1 })
      await lateRoot.subscribeAsync('iso/#', { qos: 1 })
      await gotRoot.waitFor(1)
      await settled(lateB)
      assert.deepEqual(
        gotRoot.messages.map(m => [m.topic, m.payload, m.retain]),
        [['iso/kept', 'root retained', true]]
      )
      assert.deepEqual(gotB.messages, [], "no retained message of '/' in 'b'")
    } finally {
      await end(lateB, lateRoot)
    }
  })

  test('wills and shared subscriptions stay in their vhost', async () => {
    const rootSub = await as('ann', 'ws-root', 5)
    const bSub = await as('b:ann', 'ws-b', 5)
    const rootGot = collector(rootSub)
    const bGot = collector(bSub)
    const doomed = await connect(broker.mqttUrl, {
      clientId: 'doomed',
      username: 'b:ann',
      password,
      protocolVersion: 5,
      will: { topic: 'will/doomed', payload: Buffer.from('gone from b'), qos: 1, retain: false }
    })
    const pub = await as('b:ann', 'share-pub', 5)
    try {
      await rootSub.subscribeAsync(['will/#', '$share/g/share/#'], { qos: 1 })
      await bSub.subscribeAsync(['will/#', '$share/g/share/#'], { qos: 1 })
      // The same group name in two vhosts is two groups: each gets every message of its own vhost.
      await pub.publishAsync('share/1', 'shared in b', { qos: 1 })
      doomed.stream.destroy() // no DISCONNECT: the will goes
      await bGot.waitFor(2)
      await settled(rootSub)
      await settled(bSub)
      assert.deepEqual(bGot.messages.map(m => [m.topic, m.payload]).sort(), [
        ['share/1', 'shared in b'],
        ['will/doomed', 'gone from b']
      ])
      assert.deepEqual(rootGot.messages, [], "nothing of 'b' in '/'")
    } finally {
      await end(rootSub, bSub, pub, doomed)
    }
  })

  test('mosquitto_sub (3.1.1) in vhost b receives what mosquitto_pub (5.0) publishes there, and nothing from /', async () => {
    const port = String(broker.node.ports.mqtt)
    const sub = run('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-V',
      'mqttv311',
      '-u',
      'b:bob',
      '-P',
      password,
      '-t',
      'mos/#',
      '-C',
      '1',
      '-W',
      '10',
      '-v'
    ])
    // The subscription exists once the management API lists its binding in 'b'.
    await eventually('mosquitto_sub subscribed in b', async () => {
      const res = await adminFetch(`${broker.adminUrl}/api/bindings/b`)
      const bindings = (await res.json()) as Array<{ routing_key: string }>
      return bindings.some(x => x.routing_key === 'mos.#')
    })
    const common = ['-h', '127.0.0.1', '-p', port, '-V', 'mqttv5', '-P', password, '-q', '1']
    const fromRoot = await run('mosquitto_pub', [...common, '-u', 'ann', '-t', 'mos/x', '-m', 'from root'])
    assert.equal(fromRoot.code, 0, fromRoot.output)
    const fromB = await run('mosquitto_pub', [...common, '-u', 'b:ann', '-t', 'mos/x', '-m', 'from b'])
    assert.equal(fromB.code, 0, fromB.output)
    const got = await sub
    assert.equal(got.code, 0, got.output)
    assert.equal(got.output.trim(), 'mos/x from b')
    const refused = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-V', 'mqttv5', '-u', 'c:ann', '-P', password, '-t', '#', '-C', '1', '-W', '5'])
    assert.notEqual(refused.code, 0)
    assert.match(refused.output, /not authori[sz]ed/i, refused.output)
  })

  test('an AMQP client in vhost b sees on amq.topic the MQTT publishes of vhost b, not those of /', async () => {
    const conn = await amqpConnect(`amqp://ann:${password}@127.0.0.1:${broker.node.ports.amqp}/b`)
    const root = await as('ann', 'amqp-root')
    const b = await as('b:ann', 'amqp-b')
    try {
      const ch = await channel(conn)
      const { queue } = await ch.assertQueue('', { exclusive: true })
      await ch.bindQueue(queue, 'amq.topic', 'sensors.#')
      const inbox = await consume(ch, queue, { noAck: true })
      // Acknowledged means routed: the publish of '/' went through core before the one of 'b'.
      await root.publishAsync('sensors/t', 'root', { qos: 1 })
      await b.publishAsync('sensors/t', 'b', { qos: 1 })
      await inbox.waitFor(1)
      assert.deepEqual(inbox.bodies(), ['b'])
      assert.equal(inbox.messages[0]?.fields.routingKey, 'sensors.t')
    } finally {
      await end(root, b)
      await closeQuietly(conn)
    }
  })

  test('a vhost added at runtime serves MQTT clients at once', async () => {
    const put = (path: string, body: unknown): Promise<Response> =>
      adminFetch(`${broker.adminUrl}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    assert.ok((await put('/api/vhosts/late', {})).ok)
    assert.ok((await put('/api/permissions/late/bob', { configure: '.*', write: '.*', read: '.*' })).ok)
    const c = await as('late:bob', 'late-1', 5)
    try {
      const got = collector(c)
      await c.subscribeAsync('hello', { qos: 1 })
      await c.publishAsync('hello', 'late', { qos: 1 })
      await got.waitFor(1)
      assert.equal((await mqttConnections(broker)).find(x => x.client_id === 'late-1')?.vhost, 'late')
    } finally {
      await end(c)
    }
  })

  test('deleting a vhost disconnects its MQTT clients (0x98); added again, it serves new sessions', async () => {
    const put = (path: string, body: unknown): Promise<Response> =>
      adminFetch(`${broker.adminUrl}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    assert.ok((await put('/api/vhosts/gone', {})).ok)
    assert.ok((await put('/api/permissions/gone/bob', { configure: '.*', write: '.*', read: '.*' })).ok)
    const c = await connect(broker.mqttUrl, {
      clientId: 'gone-1',
      username: 'gone:bob',
      password,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 600 }
    })
    await c.subscribeAsync('g/#', { qos: 1 })
    const reason = new Promise<number | undefined>(resolve => c.once('disconnect', p => resolve(p.reasonCode)))
    const gone = closed(c, 10_000)
    assert.equal((await adminFetch(`${broker.adminUrl}/api/vhosts/gone`, { method: 'DELETE' })).status, 204)
    assert.equal(await reason, 0x98)
    await gone
    await end(c)
    await assert.rejects(as('gone:bob', 'gone-2', 5), (err: CodeError) => err.code === 0x87)
    assert.ok((await put('/api/vhosts/gone', {})).ok)
    assert.ok((await put('/api/permissions/gone/bob', { configure: '.*', write: '.*', read: '.*' })).ok)
    const again = await connect(broker.mqttUrl, { clientId: 'gone-1', username: 'gone:bob', password, protocolVersion: 5, clean: false })
    try {
      assert.equal(sessionPresent(again), false, 'the session went with its vhost')
      const got = collector(again)
      await again.subscribeAsync('g/#', { qos: 1 })
      await again.publishAsync('g/1', 'new vhost', { qos: 1 })
      await got.waitFor(1)
    } finally {
      await end(again)
    }
  })
})

describe('MQTT vhosts across a restart', { timeout: 90_000 }, () => {
  test('a session and a retained message come back in their vhost, not in another', async () => {
    let broker = await startTestBroker(configure)
    const dataDir = broker.dataDir
    try {
      const keep = await login(broker, 'b:ann', 'keeper', false)
      await keep.subscribeAsync('keep/#', { qos: 1 })
      await end(keep)
      const pub = await login(broker, 'b:ann', 'keep-pub')
      await pub.publishAsync('keep/1', 'queued in b', { qos: 1 })
      await pub.publishAsync('keep/r', 'retained in b', { qos: 1, retain: true })
      await end(pub)
      await broker.stop()
      broker = await startTestBroker(configure, dataDir)

      // The same client id in '/' has no session; the one in 'b' has its queued message.
      const inRoot = await login(broker, 'ann', 'keeper', false)
      const rootGot = collector(inRoot)
      assert.equal(sessionPresent(inRoot), false)
      await inRoot.subscribeAsync('keep/#', { qos: 1 })
      await settled(inRoot)
      assert.deepEqual(rootGot.messages, [], "no retained message of 'b' in '/'")
      await end(inRoot)

      const back = await login(broker, 'b:ann', 'keeper', false)
      const got = collector(back)
      assert.equal(sessionPresent(back), true)
      await got.waitFor(2)
      await settled(back)
      assert.deepEqual(
        got.messages.map(m => m.payload),
        ['queued in b', 'retained in b'],
        'both publishes were queued in the session while it was offline'
      )
      const fresh = await login(broker, 'b:ann', 'fresh')
      const freshGot = collector(fresh)
      await fresh.subscribeAsync('keep/#', { qos: 1 })
      await freshGot.waitFor(1)
      assert.deepEqual(
        freshGot.messages.map(m => [m.payload, m.retain]),
        [['retained in b', true]]
      )
      await end(back, fresh)
    } finally {
      await broker.close()
    }
  })
})

describe("the TLS listeners' vhosts", { timeout: 60_000 }, () => {
  test('mqtt.tls.vhost and mqtt.ws.tls.vhost are the vhosts of their clients that name none', async () => {
    const pki = makeTestPki()
    const broker = await startTestBroker(c => {
      configure(c)
      c.auth.users.push({ username: 'cat', passwordHash: hash })
      c.auth.permissions.push({ user: 'cat', vhost: 'c', configure: '.*', write: '.*', read: '.*' })
      const files = { port: 0, certFile: pki.server.cert, keyFile: pki.server.key }
      c.mqtt.tls = { ...c.mqtt.tls, ...files, vhost: 'c' }
      c.mqtt.ws.tls = { ...c.mqtt.ws.tls, ...files, vhost: 'b' }
    })
    const tls = { ca: pki.read(pki.caFile), rejectUnauthorized: true, password }
    const clients: MqttClient[] = []
    try {
      clients.push(
        await connect(`mqtts://localhost:${broker.node.ports.mqttTls}`, { ...tls, clientId: 'tls-cat', username: 'cat' }),
        await connect(`wss://localhost:${broker.node.ports.wsTls}/mqtt`, { ...tls, clientId: 'wss-bob', username: 'bob' }),
        await connect(`mqtts://localhost:${broker.node.ports.mqttTls}`, { ...tls, clientId: 'tls-ann-b', username: 'b:ann' })
      )
      const byId = new Map((await mqttConnections(broker)).map(c => [c.client_id, c.vhost]))
      assert.deepEqual(
        ['tls-cat', 'wss-bob', 'tls-ann-b'].map(id => byId.get(id)),
        ['c', 'b', 'b']
      )
      await assert.rejects(
        connect(`mqtts://localhost:${broker.node.ports.mqttTls}`, { ...tls, clientId: 'tls-ann', username: 'ann' }),
        (err: CodeError) => err.code === 5
      )
    } finally {
      await end(...clients)
      await broker.close()
      pki.remove()
    }
  })
})

describe('MQTT $SYS per vhost', { timeout: 60_000 }, () => {
  test("each vhost's $SYS/broker/clients/connected counts its own clients", async () => {
    const broker = await startTestBroker(c => {
      configure(c)
      c.mqtt.sysIntervalSeconds = 1
    })
    const clients: MqttClient[] = []
    try {
      clients.push(await login(broker, 'b:ann', 'sys-b1'), await login(broker, 'b:ann', 'sys-b2'), await login(broker, 'b:ann', 'sys-b3'))
      const rootWatcher = await login(broker, 'ann', 'sys-root')
      const bWatcher = clients[0] as MqttClient
      clients.push(rootWatcher)
      const inRoot = collector(rootWatcher)
      const inB = collector(bWatcher)
      await rootWatcher.subscribeAsync('$SYS/broker/clients/connected')
      await bWatcher.subscribeAsync('$SYS/broker/clients/connected')
      const latest = (got: ReturnType<typeof collector>): string | undefined => got.messages.at(-1)?.payload
      await eventually("'b' counts its 3 clients", () => latest(inB) === '3', 10_000)
      await eventually("'/' counts its 1 client", () => latest(inRoot) === '1', 10_000)
    } finally {
      await end(...clients)
      await broker.close()
    }
  })
})

describe('retained messages kept before vhosts', { timeout: 60_000 }, () => {
  test('belong to mqtt.vhost after the upgrade (migration 7)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wharf-test-'))
    const old = SqliteStore.open({ dataDir, durability: 'process', commitWindowMs: 0, commitBatchMax: 100, migrations: migrations.filter(m => m.version <= 6) })
    old.db
      .prepare('INSERT INTO retained (topic, payload, qos, fields, created_ms) VALUES (?, ?, ?, ?, ?)')
      .run('old/t', Buffer.from('from before'), 0, '{}', Date.now())
    old.close()
    const broker = await startTestBroker(c => {
      configure(c)
      c.mqtt.vhost = 'b'
    }, dataDir)
    try {
      const inB = await login(broker, 'b:ann', 'old-b')
      const inRoot = await login(broker, '/:ann', 'old-root')
      const gotB = collector(inB)
      const gotRoot = collector(inRoot)
      await inB.subscribeAsync('old/#', { qos: 1 })
      await inRoot.subscribeAsync('old/#', { qos: 1 })
      await gotB.waitFor(1)
      await settled(inRoot)
      assert.deepEqual(
        gotB.messages.map(m => [m.topic, m.payload, m.retain]),
        [['old/t', 'from before', true]]
      )
      assert.deepEqual(gotRoot.messages, [])
      await end(inB, inRoot)
    } finally {
      await broker.close()
    }
  })
})

function login(broker: TestBroker, username: string, clientId: string, clean = true): Promise<MqttClient> {
  return connect(broker.mqttUrl, { clientId, username, password, clean })
}
