// bridges[].vhost: a bridge works in the vhost it names, not only in mqtt.vhost. Devices in the
// vhost 'plant' (username 'plant:dev', as RabbitMQ's MQTT plugin reads it) reach the remote, Debian's
// Mosquitto, and get its commands; the same topics in '/' stay local. The vhost cannot be deleted while
// the bridge names it, a bridge moved to another vhost leaves its old queue unbound, messages kept, and
// the bridge's backlog bound holds the publishers of its vhost, not those of the others.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import type { WharfConfig } from '../edge-config/config-types.ts'
import { hashPassword } from '../core/auth/password-hash.ts'
import { restartablePorts } from '../bench/brokers/free-port.ts'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { collector, connect, end, settled } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'
import { closeQuietly, connect as amqpConnect } from './support/amqp-helpers.ts'
import { eventually, holdsFor } from './support/wait.ts'
import { bridgeStatus, bridgeTo, waitForBridge } from './support/bridge-scenarios.ts'
import { mosquittoUnavailable, startMosquitto } from './support/mosquitto.ts'

const password = 'pw'

/** Two vhosts and a user 'dev' with every permission in both. */
function twoVhosts(c: WharfConfig): void {
  c.log.level = 'info'
  c.amqp.vhosts = ['/', 'plant']
  c.auth.users = [{ username: 'dev', passwordHash: hashPassword(password) }]
  c.auth.permissions = ['/', 'plant'].map(vhost => ({ user: 'dev', vhost, configure: '.*', write: '.*', read: '.*' }))
}

async function queueJson(edge: TestBroker, vhost: string, name: string): Promise<{ status: number; messages?: number }> {
  const res = await adminFetch(`${edge.adminUrl}/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`)
  return res.status === 200 ? { status: 200, ...((await res.json()) as { messages: number }) } : { status: res.status }
}

test("a bridge in another vhost carries that vhost's traffic, both ways, and that vhost cannot be deleted", {
  skip: mosquittoUnavailable(),
  timeout: 60_000
}, async () => {
  const mosquitto = await startMosquitto()
  let edge: TestBroker | undefined
  const clients: MqttClient[] = []
  try {
    edge = await startTestBroker(c => {
      twoVhosts(c)
      c.bridges = [bridgeTo(mosquitto.url, { vhost: 'plant' })]
    })
    const remote = await connect(mosquitto.url, { clientId: 'cloud-app', protocolVersion: 5 })
    clients.push(remote)
    const inPlant = await connect(edge.mqttUrl, { clientId: 'plant-device', username: 'plant:dev', password, protocolVersion: 5 })
    clients.push(inPlant)
    const inRoot = await connect(edge.mqttUrl, { clientId: 'root-device', username: 'dev', password, protocolVersion: 5 })
    clients.push(inRoot)
    const s = await waitForBridge(edge, 'connected', s => s.state === 'connected')
    assert.equal(s.vhost, 'plant')
    assert.equal((await queueJson(edge, 'plant', 'bridge/cloud')).status, 200, "the bridge's queue is in plant")
    assert.equal((await queueJson(edge, '/', 'bridge/cloud')).status, 404, 'and not in /')

    // Up: the same topic from each vhost, '/' first; only plant's goes up.
    const atRemote = collector(remote)
    await remote.subscribeAsync('up/#', { qos: 1 })
    await inRoot.publishAsync('up/telemetry', 'from root', { qos: 1 })
    await inPlant.publishAsync('up/telemetry', 'from plant', { qos: 1 })
    await waitForBridge(edge, 'forwarded and confirmed', s => s.confirmed === 1 && s.backlog.messages === 0)
    await settled(remote) // Mosquitto delivered what the bridge sent before this marker
    assert.deepEqual(
      atRemote.messages.map(m => m.payload),
      ['from plant']
    )

    // Down: a command at the remote reaches plant's device, not the one in '/'.
    const plantGot = collector(inPlant)
    const rootGot = collector(inRoot)
    await inPlant.subscribeAsync('cmd/#', { qos: 1 })
    await inRoot.subscribeAsync('cmd/#', { qos: 1 })
    await remote.publishAsync('cmd/valve', 'close', { qos: 1 })
    await plantGot.waitFor(1)
    assert.equal(plantGot.messages[0]?.topic, 'cmd/valve')
    assert.equal(plantGot.messages[0]?.payload, 'close')
    await settled(inRoot)
    await holdsFor('nothing reaches the device in /', () => rootGot.messages.length === 0, 300)

    // The vhost the bridge names stays.
    const del = await adminFetch(`${edge.adminUrl}/api/vhosts/plant`, { method: 'DELETE' })
    assert.equal(del.status, 400)
    assert.match(((await del.json()) as { reason: string }).reason, /bridge 'cloud' works in it/)
    assert.equal((await queueJson(edge, 'plant', 'bridge/cloud')).status, 200)
  } finally {
    await end(...clients)
    await edge?.close()
    await mosquitto.stop()
  }
})

test('a bridge moved to another vhost leaves its old queue unbound with its messages, and warns', { timeout: 60_000 }, async () => {
  // Nothing listens on the remote's port: the messages stay in the bridge's queue.
  const [port] = (await restartablePorts(1)) as [number]
  const url = `mqtt://127.0.0.1:${port}`
  const first = await startTestBroker(c => {
    twoVhosts(c)
    c.bridges = [bridgeTo(url)]
  })
  let second: TestBroker | undefined
  try {
    const pub = await connect(first.mqttUrl, { clientId: 'root-pub', username: 'dev', password, protocolVersion: 5 })
    await pub.publishAsync('up/a', '1', { qos: 1 })
    await pub.publishAsync('up/a', '2', { qos: 1 })
    await end(pub)
    assert.equal((await bridgeStatus(first)).vhost, '/')
    assert.equal((await queueJson(first, '/', 'bridge/cloud')).messages, 2)
    await first.stop()

    second = await startTestBroker(c => {
      twoVhosts(c)
      c.bridges = [bridgeTo(url, { vhost: 'plant' })]
    }, first.dataDir)
    const warned = second.logs.find(l => String(l.msg).includes('no longer configured in this vhost'))
    assert.ok(warned !== undefined, 'a warning names the old queue')
    assert.equal(warned.vhost, '/')
    assert.equal(warned.queue, 'bridge/cloud')
    assert.equal(warned.messages, 2)
    assert.equal((await bridgeStatus(second)).vhost, 'plant')

    // The old queue keeps its messages and takes no more: its bindings on amq.topic are gone.
    const again = await connect(second.mqttUrl, { clientId: 'root-pub', username: 'dev', password, protocolVersion: 5 })
    await again.publishAsync('up/a', '3', { qos: 1 })
    await end(again)
    const bindings = await adminFetch(`${second.adminUrl}/api/queues/%2F/${encodeURIComponent('bridge/cloud')}/bindings`)
    assert.equal(bindings.status, 200)
    const sources = ((await bindings.json()) as Array<{ source: string }>).map(b => b.source)
    assert.deepEqual(sources, [''], 'only the default exchange binding is left')
    assert.equal((await queueJson(second, '/', 'bridge/cloud')).messages, 2)
    await eventually('the new queue in plant is empty', async () => (await queueJson(second as TestBroker, 'plant', 'bridge/cloud')).messages === 0)
  } finally {
    await second?.close()
    await first.close()
  }
})

test("a bridge's backlog bound holds the publishers of its vhost only", { timeout: 60_000 }, async () => {
  // Nothing listens on the remote's port: the backlog grows to its bound (about 20 messages).
  const [port] = (await restartablePorts(1)) as [number]
  const edge = await startTestBroker(c => {
    twoVhosts(c)
    c.bridges = [bridgeTo(`mqtt://127.0.0.1:${port}`, { vhost: 'plant', backlogBytesMax: 20_000 })]
  })
  const amqpPort = new URL(edge.amqpUrl).port
  const clients: MqttClient[] = []
  const amqpConns: Awaited<ReturnType<typeof amqpConnect>>[] = []
  try {
    const inPlant = await connect(edge.mqttUrl, { clientId: 'plant-pub', username: 'plant:dev', password, protocolVersion: 5 })
    clients.push(inPlant)
    const inRoot = await connect(edge.mqttUrl, { clientId: 'root-pub', username: 'dev', password, protocolVersion: 5 })
    clients.push(inRoot)
    const told: Record<string, string | null> = { plant: null, '/': null }
    for (const vhost of ['plant', '/']) {
      const conn = await amqpConnect(`amqp://dev:${password}@127.0.0.1:${amqpPort}/${encodeURIComponent(vhost)}`)
      amqpConns.push(conn)
      conn.on('blocked', (reason: string) => {
        told[vhost] = reason
      })
    }

    let refusal: Error | undefined
    let acked = 0
    for (let n = 0; n < 100 && refusal === undefined; n++) {
      try {
        await inPlant.publishAsync('up/seq', `${n}:${'x'.repeat(1000)}`, { qos: 1 })
        acked++
      } catch (err) {
        refusal = err as Error
      }
    }
    assert.match(String(refusal?.message), /Quota exceeded/, `plant's publisher is refused at the bound (after ${acked})`)
    await waitForBridge(edge, 'holding publishers', s => s.backlog.blockingPublishers)
    await eventually('AMQP publishers in plant told connection.blocked', () => told.plant !== null)
    assert.match(String(told.plant), /bridge cloud: backlog .* over bridges\[\]\.backlogBytesMax/)

    // In '/': MQTT QoS 1 publishes are acknowledged and AMQP connections are not blocked.
    await inRoot.publishAsync('up/seq', 'from root', { qos: 1 })
    await holdsFor('no connection.blocked in /', () => told['/'] === null, 300)
    const blockedLog = edge.logs.find(l => l.msg === 'publishers blocked')
    assert.equal(blockedLog?.vhost, 'plant')
  } finally {
    await closeQuietly(...amqpConns)
    await end(...clients)
    await edge.close()
  }
})
