// MQTT under the permission model, as RabbitMQ's MQTT plugin maps it, through mqtt.js and Debian's
// mosquitto clients: SUBSCRIBE needs configure/write/read on the session queue, read on the exchange
// and topic read on the binding key (SUBACK 0x80 in 3.1.1, 0x87 in 5.0); PUBLISH needs write on the
// exchange and topic write on the routing key (PUBACK 0x87 in 5.0); CONNECT needs access to the vhost
// (CONNACK 5 / 0x87), which 'vhost:user' may name.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import type { MqttClient } from 'mqtt'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { collector, connect, end } from './support/mqtt-helpers.ts'
import { hashPassword } from '../core/auth/password-hash.ts'

const password = 'pw'
const hash = hashPassword(password)
type CodeError = Error & { code?: number }

/** SUBACK's return codes, whatever mqtt.js makes of a refusal. */
function suback(client: MqttClient, filters: string[]): Promise<number[]> {
  return new Promise(resolve => {
    client.subscribe(filters, { qos: 1 }, (_err, _granted, packet) => resolve((packet as unknown as { granted: number[] }).granted))
  })
}

function puback(client: MqttClient, topic: string): Promise<number> {
  return new Promise(resolve => {
    client.publish(topic, 'x', { qos: 1 }, (err, packet) =>
      resolve((err as CodeError | undefined)?.code ?? (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0)
    )
  })
}

describe('MQTT permissions', { timeout: 60_000 }, () => {
  let broker: TestBroker
  const as = (username: string, clientId: string, protocolVersion: 4 | 5 = 4): Promise<MqttClient> =>
    connect(broker.mqttUrl, { clientId, username, password, protocolVersion })

  before(async () => {
    broker = await startTestBroker(c => {
      c.auth.allowAnonymous = false
      c.amqp.vhosts = ['/', 'tenant']
      c.auth.users = [
        { username: 'dave', passwordHash: hash },
        { username: 'erin', passwordHash: hash },
        { username: 'watcher', passwordHash: hash }
      ]
      c.auth.permissions = [
        // dave's sessions are mqtt-session/dave-*; he reads and writes through amq.topic only.
        {
          user: 'dave',
          vhost: '/',
          configure: '^mqtt-session/dave-',
          write: '^(amq\\.topic|mqtt-session/dave-.*)$',
          read: '^(amq\\.topic|mqtt-session/dave-.*)$'
        },
        { user: 'erin', vhost: 'tenant', configure: '.*', write: '.*', read: '.*' },
        { user: 'watcher', vhost: '/', configure: '.*', write: '.*', read: '.*' }
      ]
      c.auth.topicPermissions = [{ user: 'dave', vhost: '/', exchange: 'amq.topic', write: '^dave\\.', read: '^(dave|public)\\.' }]
    })
  })
  after(async () => {
    await broker.close()
  })

  test('SUBSCRIBE: allowed filters are granted, others get 0x80 (3.1.1) and 0x87 (5.0)', async () => {
    const v4 = await as('dave', 'dave-1')
    const v5 = await as('dave', 'dave-2', 5)
    try {
      assert.deepEqual(await suback(v4, ['dave/#', 'public/news', 'other/#', '#']), [1, 1, 0x80, 0x80])
      assert.deepEqual(await suback(v5, ['dave/+/status', 'public/#', 'other/x']), [1, 1, 0x87])
    } finally {
      await end(v4, v5)
    }
  })

  test('SUBSCRIBE needs configure, write and read on the session queue: another client id is refused', async () => {
    const c = await as('dave', 'not-dave')
    const denied = (): number => broker.node.metrics.value('wharf_mqtt_subscribe_denied_total')
    try {
      const before = denied()
      assert.deepEqual(await suback(c, ['dave/#']), [0x80])
      assert.equal(denied(), before + 1)
    } finally {
      await end(c)
    }
  })

  test('PUBLISH: allowed topics are delivered; others get PUBACK 0x87 in 5.0 and are acked and dropped in 3.1.1', async () => {
    const watcher = await as('watcher', 'watcher-1')
    const v5 = await as('dave', 'dave-3', 5)
    const v4 = await as('dave', 'dave-4')
    try {
      const got = collector(watcher)
      await watcher.subscribeAsync('#', { qos: 1 })
      assert.equal(await puback(v5, 'dave/temp'), 0)
      assert.equal(await puback(v5, 'other/temp'), 0x87)
      assert.equal(await puback(v4, 'other/x'), 0, 'a 3.1.1 client cannot hear a refusal (as Mosquitto)')
      await v4.publishAsync('dave/v4', 'x', { qos: 1 })
      // Each refused publish was handled before the allowed one published after it (the 0x87 came
      // back first; one connection's packets are handled in order): had it been routed, it would
      // have reached the watcher before dave/v4, among these two.
      await got.waitFor(2)
      assert.deepEqual(
        got.messages.map(m => m.topic),
        ['dave/temp', 'dave/v4']
      )
      assert.ok(v4.connected && v5.connected, 'a refused publish does not close the connection')
    } finally {
      await end(watcher, v5, v4)
    }
  })

  test('a will the user may not publish is refused at CONNECT', async () => {
    await assert.rejects(
      connect(broker.mqttUrl, {
        clientId: 'dave-5',
        username: 'dave',
        password,
        will: { topic: 'other/gone', payload: Buffer.from('x'), qos: 0, retain: false }
      }),
      (err: CodeError) => err.code === 5
    )
    const ok = await connect(broker.mqttUrl, {
      clientId: 'dave-6',
      username: 'dave',
      password,
      will: { topic: 'dave/gone', payload: Buffer.from('x'), qos: 0, retain: false }
    })
    await end(ok)
  })

  test("CONNECT: a user without permissions in the listener's vhost gets CONNACK 5 (3.1.1) and 0x87 (5.0)", async () => {
    await assert.rejects(as('erin', 'erin-1'), (err: CodeError) => err.code === 5)
    await assert.rejects(as('erin', 'erin-2', 5), (err: CodeError) => err.code === 0x87)
    assert.ok(broker.logs.some(l => l.msg === 'mqtt connect refused' && l.reason === "access to vhost '/' refused for user 'erin'"))
  })

  test("'vhost:user' names the vhost: one the user has permissions in is accepted, another is refused with CONNACK 5", async () => {
    const c = await connect(broker.mqttUrl, { clientId: 'dave-7', username: '/:dave', password })
    const e = await connect(broker.mqttUrl, { clientId: 'erin-3', username: 'tenant:erin', password })
    try {
      assert.deepEqual(await suback(c, ['dave/#']), [1], 'the user is the part after the last colon')
      assert.deepEqual(await suback(e, ['anything/#']), [1], "erin's permissions in 'tenant'")
    } finally {
      await end(c, e)
    }
    await assert.rejects(connect(broker.mqttUrl, { clientId: 'dave-8', username: 'tenant:dave', password }), (err: CodeError) => err.code === 5)
    assert.ok(broker.logs.some(l => l.msg === 'mqtt connect refused' && l.reason === "access to vhost 'tenant' refused for user 'dave'"))
  })

  test('mosquitto_sub and mosquitto_pub meet the same permissions', async () => {
    const run = (cmd: string, args: string[]): Promise<{ code: number; output: string }> =>
      new Promise(resolve => {
        execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) =>
          resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), output: stdout + stderr })
        )
      })
    const common = ['-h', '127.0.0.1', '-p', String(broker.node.ports.mqtt), '-u', 'dave', '-P', password]
    for (const version of ['mqttv311', 'mqttv5']) {
      const denied = await run('mosquitto_sub', [...common, '-V', version, '-i', `dave-sub-${version}`, '-t', 'other/#', '-C', '1', '-W', '3'])
      assert.match(denied.output, /denied/i, `${version}: ${denied.output}`)
    }
    const watcher = await as('watcher', 'watcher-2')
    try {
      const got = collector(watcher)
      await watcher.subscribeAsync('#', { qos: 1 })
      const refused = await run('mosquitto_pub', [...common, '-V', 'mqttv5', '-i', 'dave-pub-1', '-t', 'other/x', '-m', 'no', '-q', '1'])
      assert.match(refused.output, /Publish 1 failed: Not authorized/, 'mosquitto_pub reports PUBACK 0x87 (and still exits 0)')
      const allowed = await run('mosquitto_pub', [...common, '-V', 'mqttv5', '-i', 'dave-pub-2', '-t', 'dave/x', '-m', 'yes', '-q', '1'])
      assert.equal(allowed.code, 0, allowed.output)
      // The refused publish was answered before the allowed one was sent: routed, it would be first.
      const [m] = await got.waitFor(1)
      assert.deepEqual([m?.topic, m?.payload], ['dave/x', 'yes'])
    } finally {
      await end(watcher)
    }
  })
})

describe('anonymous MQTT exposure', { timeout: 30_000 }, () => {
  test('anonymous access on a non-loopback listener is warned about at start; on loopback it is not', async t => {
    const exposed = await startTestBroker(c => {
      c.mqtt.host = '0.0.0.0'
    })
    t.after(() => exposed.close()) // here, not in the finally: a second start that fails leaves nothing running
    const local = await startTestBroker()
    try {
      const warning = exposed.logs.find(l => String(l.msg).startsWith('anonymous MQTT access is enabled on a listener that is not loopback-only'))
      assert.ok(warning, 'warned')
      assert.deepEqual(warning.listeners, ['mqtt on 0.0.0.0'])
      assert.equal(
        local.logs.some(l => String(l.msg).startsWith('anonymous MQTT access')),
        false
      )
    } finally {
      await local.close()
    }
  })

  test('with anonymous access off, a client without credentials gets CONNACK 5, and no warning is written', async () => {
    const b = await startTestBroker(c => {
      c.mqtt.host = '0.0.0.0'
      c.auth.allowAnonymous = false
    })
    try {
      await assert.rejects(connect(b.mqttUrl, { clientId: 'anon' }), (err: CodeError) => err.code === 5)
      assert.equal(
        b.logs.some(l => String(l.msg).startsWith('anonymous MQTT access')),
        false
      )
    } finally {
      await b.close()
    }
  })
})
