// A definitions file exported from a real RabbitMQ (Debian's 3.10, rabbitmq_management) imports into
// Wharf: users (their RabbitMQ password hashes keep working), vhosts, permissions, topic permissions,
// exchanges, queues (a quorum queue too) with arguments and bindings; what Wharf does not support (a
// consistent-hash exchange, policies, global parameters, a tag it does not know, the guest user) is
// listed with the reason, none skipped silently.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import amqp from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { adminFetch, basicAuthorization } from './support/admin-http.ts'
import { startRabbitmqWithManagement, type RabbitmqNode } from './support/rabbitmq-node.ts'

type Json = Record<string, unknown>

describe('definitions exported from RabbitMQ import into Wharf', { timeout: 180_000 }, () => {
  let rabbit: RabbitmqNode
  let wharf: TestBroker
  let exported: Json

  before(async () => {
    rabbit = await startRabbitmqWithManagement(['rabbitmq_consistent_hash_exchange'])
    const guest = { authorization: basicAuthorization('guest', 'guest'), 'content-type': 'application/json' }
    const put = async (path: string, body: unknown): Promise<void> => {
      const res = await fetch(`${rabbit.managementUrl}${path}`, { method: 'PUT', headers: guest, body: JSON.stringify(body) })
      assert.ok(res.status === 201 || res.status === 204, `RabbitMQ PUT ${path}: ${res.status} ${await res.text()}`)
    }
    await put('/api/vhosts/plant', {})
    await put('/api/users/operator', { password: 'op-pass', tags: 'administrator' })
    await put('/api/users/sensor', { password: 'sensor-pass', tags: 'monitoring,impersonator' })
    await put('/api/permissions/plant/operator', { configure: '.*', write: '.*', read: '.*' })
    await put('/api/permissions/%2F/operator', { configure: '.*', write: '.*', read: '.*' })
    await put('/api/permissions/plant/sensor', { configure: '^sensor-.*', write: '.*', read: '^sensor-.*' })
    await put('/api/topic-permissions/plant/sensor', { exchange: 'amq.topic', write: '^sensors\\.{username}\\.', read: '.*' })
    await put('/api/policies/plant/ttl', { pattern: '^ttl-', definition: { 'message-ttl': 60000 }, 'apply-to': 'queues' })

    const conn = await amqp.connect(`${rabbit.amqpUrl}/plant`.replace('guest:guest', 'operator:op-pass'))
    try {
      const ch = await conn.createChannel()
      await ch.assertExchange('telemetry', 'topic', { durable: true })
      await ch.assertExchange('alarms', 'fanout', { durable: true, arguments: { 'alternate-exchange': 'telemetry' } })
      await ch.assertExchange('sharded', 'x-consistent-hash', { durable: true })
      await ch.assertQueue('readings', {
        durable: true,
        arguments: { 'x-max-length': 1000, 'x-message-ttl': 30000, 'x-overflow': 'reject-publish', 'x-dead-letter-exchange': 'alarms' }
      })
      await ch.assertQueue('history', { durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-age': '7D' } })
      await ch.assertQueue('orders-quorum', { durable: true, arguments: { 'x-queue-type': 'quorum' } })
      await ch.assertQueue('alarm-log', { durable: true, autoDelete: false })
      await ch.bindQueue('readings', 'telemetry', 'sensors.#')
      await ch.bindQueue('history', 'telemetry', 'sensors.*.temp', { 'x-extra': 'kept' })
      await ch.bindQueue('alarm-log', 'alarms', '')
      await ch.bindQueue('orders-quorum', 'telemetry', 'orders.#')
      await ch.bindExchange('alarms', 'telemetry', 'alarm.#')
      await ch.close()
    } finally {
      await conn.close()
    }
    const res = await fetch(`${rabbit.managementUrl}/api/definitions`, { headers: guest })
    assert.equal(res.status, 200)
    exported = (await res.json()) as Json
    wharf = await startTestBroker()
  })

  after(async () => {
    try {
      await wharf?.close()
    } finally {
      await rabbit?.stop()
    }
  })

  test("the file is RabbitMQ's own", () => {
    assert.equal(exported.rabbit_version, '3.10.8')
    assert.ok(Array.isArray(exported.users) && Array.isArray(exported.global_parameters))
  })

  test('POST /api/definitions: what Wharf supports is imported, the rest listed with reasons', async () => {
    const res = await adminFetch(`${wharf.adminUrl}/api/definitions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(exported)
    })
    const body = (await res.json()) as { imported: Record<string, number>; unsupported: Array<Json>; failed: Json[] }
    assert.equal(res.status, 200, JSON.stringify(body))
    assert.deepEqual(body.failed, [])
    assert.deepEqual(body.imported, { vhosts: 2, users: 2, permissions: 3, topic_permissions: 1, exchanges: 2, queues: 4, bindings: 5 })
    const listed = body.unsupported.map(u => `${String(u.kind)} ${String(u.name)}`).sort()
    assert.deepEqual(
      listed.filter(l => !l.startsWith('global_parameters')),
      ['exchange sharded', 'permission guest', 'permission guest', 'policies ttl', 'user guest', 'user tag sensor: impersonator']
    )
    assert.ok(
      listed.some(l => l.startsWith('global_parameters internal_cluster_id')),
      listed.join('\n')
    )
    for (const u of body.unsupported) assert.ok(typeof u.reason === 'string' && u.reason.length > 10, JSON.stringify(u))
  })

  test('the imported objects are there, with their arguments, and behave', async () => {
    const q = (await (await adminFetch(`${wharf.adminUrl}/api/queues/plant/readings`)).json()) as Json
    assert.deepEqual(q.arguments, { 'x-max-length': 1000, 'x-message-ttl': 30000, 'x-overflow': 'reject-publish', 'x-dead-letter-exchange': 'alarms' })
    const history = (await (await adminFetch(`${wharf.adminUrl}/api/queues/plant/history`)).json()) as Json
    assert.equal(history.type, 'stream')
    const orders = (await (await adminFetch(`${wharf.adminUrl}/api/queues/plant/orders-quorum`)).json()) as Json
    assert.deepEqual([orders.type, orders.durable], ['quorum', true])
    const alarms = (await (await adminFetch(`${wharf.adminUrl}/api/exchanges/plant/alarms`)).json()) as Json
    assert.deepEqual({ type: alarms.type, arguments: alarms.arguments }, { type: 'fanout', arguments: { 'alternate-exchange': 'telemetry' } })
    const bindings = (await (await adminFetch(`${wharf.adminUrl}/api/bindings/plant?columns=source,destination,routing_key,arguments`)).json()) as Json[]
    assert.deepEqual(
      bindings
        .filter(b => b.source !== '')
        .map(b => `${String(b.source)}>${String(b.destination)}:${String(b.routing_key)}`)
        .sort(),
      ['alarms>alarm-log:', 'telemetry>alarms:alarm.#', 'telemetry>history:sensors.*.temp', 'telemetry>orders-quorum:orders.#', 'telemetry>readings:sensors.#']
    )
    assert.deepEqual(((await (await adminFetch(`${wharf.adminUrl}/api/users/sensor`)).json()) as Json).tags, ['monitoring'])
    const topic = (await (await adminFetch(`${wharf.adminUrl}/api/topic-permissions/plant/sensor`)).json()) as Json[]
    assert.deepEqual(
      topic.map(t => [t.exchange, t.write]),
      [['amq.topic', '^sensors\\.{username}\\.']]
    )

    // The operator logs in with the password it had in RabbitMQ (its sha256 hash came along), and routes.
    const conn = await amqp.connect(`amqp://operator:op-pass@127.0.0.1:${wharf.node.ports.amqp}/plant`)
    try {
      const ch = await conn.createConfirmChannel()
      ch.publish('telemetry', 'alarm.fire', Buffer.from('fire'))
      await ch.waitForConfirms()
      const got = await ch.get('alarm-log', { noAck: true })
      assert.ok(got !== false && got.content.toString() === 'fire', 'telemetry -> alarms -> alarm-log')
    } finally {
      await conn.close()
    }
    const refused = await fetch(`${wharf.adminUrl}/api/whoami`, { headers: { authorization: basicAuthorization('operator', 'wrong') } })
    assert.equal(refused.status, 401)
  })
})
