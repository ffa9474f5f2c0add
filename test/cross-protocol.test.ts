// MQTT <-> AMQP through one core: every mapping rule in both directions, retained from AMQP,
// shared subscriptions with mixed MQTT and AMQP consumers, and the one queue list.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChannelModel } from 'amqplib'
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import * as m from './support/mqtt-helpers.ts'
import * as a from './support/amqp-helpers.ts'
import { adminFetch } from './support/admin-http.ts'

let broker: TestBroker
let amqp: ChannelModel

before(async () => {
  broker = await startTestBroker()
  amqp = await a.connect(broker.amqpUrl)
})
after(async () => {
  await a.closeQuietly(amqp)
  await broker.close()
})

async function boundQueue(key: string): Promise<{ ch: Awaited<ReturnType<typeof a.channel>>; name: string }> {
  const ch = await a.channel(amqp)
  const { queue } = await ch.assertQueue('', { exclusive: true })
  await ch.bindQueue(queue, 'amq.topic', key)
  return { ch, name: queue }
}

test('MQTT publish -> AMQP queue: topic a/b.c is routing key a.b/c; QoS sets delivery mode and x-mqtt-publish-qos', { timeout: 15000 }, async () => {
  const { ch, name } = await boundQueue('plant.#')
  const inbox = await a.consume(ch, name, { noAck: true })
  const pub = await m.connect(broker.mqttUrl)
  try {
    await pub.publishAsync('plant/line1/temp', 'q0', { qos: 0 })
    await pub.publishAsync('plant/line1/temp', 'q1', { qos: 1 })
    await pub.publishAsync('plant/v1.2/x', 'q2', { qos: 2 })
    const got = await inbox.waitFor(3)
    const byBody = new Map(got.map(d => [d.content.toString(), d]))
    assert.equal(byBody.get('q0')?.fields.routingKey, 'plant.line1.temp')
    assert.equal(byBody.get('q0')?.fields.exchange, 'amq.topic')
    assert.equal(byBody.get('q0')?.properties.deliveryMode, 1)
    assert.equal(byBody.get('q0')?.properties.headers?.['x-mqtt-publish-qos'], 0)
    assert.equal(byBody.get('q1')?.properties.deliveryMode, 2)
    assert.equal(byBody.get('q1')?.properties.headers?.['x-mqtt-publish-qos'], 1)
    assert.equal(byBody.get('q2')?.fields.routingKey, 'plant.v1/2.x')
    assert.equal(byBody.get('q2')?.properties.deliveryMode, 2)
    assert.equal(byBody.get('q2')?.properties.headers?.['x-mqtt-publish-qos'], 2)
  } finally {
    await m.end(pub)
    await ch.close()
  }
})

test('AMQP publish -> MQTT subscribers over TCP and WebSocket: key a.b/c is topic a/b.c; + is *, # is #', { timeout: 15000 }, async () => {
  const tcp = await m.connect(broker.mqttUrl)
  const ws = await m.connect(broker.wsUrl)
  const tcpIn = m.collector(tcp)
  const wsIn = m.collector(ws)
  const ch = await a.channel(amqp)
  try {
    await tcp.subscribeAsync('fleet/+/pos', { qos: 1 })
    await ws.subscribeAsync('fleet/#', { qos: 1 })
    ch.publish('amq.topic', 'fleet.truck7.pos', Buffer.from('p1'), { deliveryMode: 2 })
    ch.publish('amq.topic', 'fleet.truck7.v1/2', Buffer.from('p2'), { deliveryMode: 2 })
    ch.publish('amq.topic', 'other.truck7.pos', Buffer.from('nobody'), { deliveryMode: 2 })
    const wsGot = await wsIn.waitFor(2)
    const tcpGot = await tcpIn.waitFor(1)
    assert.deepEqual(wsGot.map(x => [x.topic, x.payload]).sort(), [
      ['fleet/truck7/pos', 'p1'],
      ['fleet/truck7/v1.2', 'p2']
    ])
    assert.deepEqual(
      tcpGot.map(x => [x.topic, x.payload]),
      [['fleet/truck7/pos', 'p1']]
    )
    await a.holdsFor('the + filter matches one level only, # two', () => tcpIn.messages.length === 1 && wsIn.messages.length === 2, 100)
  } finally {
    await m.end(tcp, ws)
    await ch.close()
  }
})

test('delivery QoS is min(subscription QoS, message QoS): persistent AMQP -> QoS 1, transient -> QoS 0', { timeout: 15000 }, async () => {
  const sub1 = await m.connect(broker.mqttUrl)
  const sub2 = await m.connect(broker.mqttUrl)
  const in1 = m.collector(sub1)
  const in2 = m.collector(sub2)
  const ch = await a.channel(amqp)
  try {
    await sub1.subscribeAsync('qos/t', { qos: 0 })
    await sub2.subscribeAsync('qos/t', { qos: 2 })
    ch.publish('amq.topic', 'qos.t', Buffer.from('persistent'), { deliveryMode: 2 })
    await in2.waitFor(1)
    ch.publish('amq.topic', 'qos.t', Buffer.from('transient'), { deliveryMode: 1 })
    const got2 = await in2.waitFor(2)
    const got1 = await in1.waitFor(2)
    assert.deepEqual(
      got2.map(x => [x.payload, x.qos]),
      [
        ['persistent', 1],
        ['transient', 0]
      ]
    )
    assert.deepEqual(
      got1.map(x => [x.payload, x.qos]),
      [
        ['persistent', 0],
        ['transient', 0]
      ]
    )
  } finally {
    await m.end(sub1, sub2)
    await ch.close()
  }
})

test('one message, overlapping subscriptions and bindings: each subscriber and queue gets it once; nothing loops', { timeout: 15000 }, async () => {
  const { ch, name } = await boundQueue('dup.#')
  await ch.bindQueue(name, 'amq.topic', 'dup.*')
  await ch.bindQueue(name, 'amq.topic', '#')
  const inbox = await a.consume(ch, name, { noAck: true })
  const sub = await m.connect(broker.mqttUrl)
  const subIn = m.collector(sub)
  const pub = await m.connect(broker.mqttUrl)
  try {
    await sub.subscribeAsync({ 'dup/#': { qos: 1 }, 'dup/+': { qos: 1 }, '#': { qos: 1 } })
    await pub.publishAsync('dup/x', 'from-mqtt', { qos: 1 })
    ch.publish('amq.topic', 'dup.y', Buffer.from('from-amqp'), { deliveryMode: 2 })
    await subIn.waitFor(2)
    await inbox.waitFor(2)
    await a.holdsFor('nothing delivered twice, nothing looping back', () => subIn.messages.length === 2 && inbox.messages.length === 2, 200)
    assert.deepEqual(subIn.messages.map(x => x.payload).sort(), ['from-amqp', 'from-mqtt'])
    assert.deepEqual(inbox.bodies().sort(), ['from-amqp', 'from-mqtt'])
  } finally {
    await m.end(sub, pub)
    await ch.close()
  }
})

test('an AMQP publish with x-mqtt-retain: true is retained for MQTT, also for wildcard subscribers who come later', { timeout: 15000 }, async () => {
  const ch = await a.channel(amqp)
  await ch.assertExchange('retain-fanin', 'fanout', { durable: false, autoDelete: true })
  // Confirmed: taken by the broker (the retained one stored) before the late subscriber comes.
  const confirm = await amqp.createConfirmChannel()
  confirm.publish('amq.topic', 'status.pump1', Buffer.from('running'), { deliveryMode: 2, headers: { 'x-mqtt-retain': true } })
  confirm.publish('amq.topic', 'status.pump2', Buffer.from('not-retained'), { deliveryMode: 2 })
  await confirm.waitForConfirms()
  await confirm.close()
  const late = await m.connect(broker.mqttUrl)
  const lateIn = m.collector(late)
  try {
    await late.subscribeAsync('status/+', { qos: 1 })
    const got = await lateIn.waitFor(1)
    assert.deepEqual(
      got.map(x => [x.topic, x.payload, x.retain]),
      [['status/pump1', 'running', true]]
    )
    await a.holdsFor('a message without x-mqtt-retain is not retained', () => lateIn.messages.length === 1, 200)
    // An MQTT-retained message reaches a later AMQP queue? No: AMQP has no retained messages; it reaches MQTT only.
  } finally {
    await m.end(late)
    await ch.close()
  }
})

test('AMQP properties reach an offline MQTT 5 session after it returns, as RabbitMQ 3.13 maps them; one stored row', { timeout: 15000 }, async () => {
  const offline = await m.connect(broker.mqttUrl, { clientId: 'props-keeper', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 300 } })
  await offline.subscribeAsync('reply/#', { qos: 1 })
  await m.end(offline)
  const confirm = await amqp.createConfirmChannel()
  try {
    confirm.publish('amq.topic', 'reply.dev1', Buffer.from('answer'), {
      deliveryMode: 2,
      contentType: 'application/json',
      correlationId: 'req-42',
      replyTo: 'svc.answers',
      expiration: '60000',
      headers: { trace: 'abc' }
    })
    await confirm.waitForConfirms()
  } finally {
    await confirm.close()
  }
  const db = new Database(join(broker.dataDir, 'wharf.db'), { readonly: true })
  try {
    const rows = db.prepare("SELECT refs FROM messages WHERE topic = 'reply.dev1'").all() as Array<{ refs: number }>
    assert.deepEqual(rows, [{ refs: 1 }], 'the confirmed message is stored once, for the offline session')
  } finally {
    db.close()
  }
  const back = await m.connect(broker.mqttUrl, { clientId: 'props-keeper', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 300 } })
  try {
    const [got] = await m.collector(back).waitFor(1)
    assert.equal(got?.topic, 'reply/dev1')
    assert.equal(got?.payload, 'answer')
    const props = got?.properties ?? {}
    assert.equal(props['contentType'], 'application/json')
    assert.equal(props['responseTopic'], 'svc/answers')
    assert.equal(Buffer.from(props['correlationData'] as Buffer).toString(), 'req-42')
    assert.deepEqual({ ...(props['userProperties'] as object) }, { trace: 'abc' })
    const expiry = props['messageExpiryInterval'] as number
    assert.ok(expiry > 0 && expiry <= 60, `remaining expiry ${expiry} s, rewritten on delivery [MQTT-3.3.2-6]`)
  } finally {
    await m.end(back)
  }
})

test('$share/<group>/<filter>: one core queue; MQTT members and an AMQP consumer compete, each message once', { timeout: 20000 }, async () => {
  const s1 = await m.connect(broker.mqttUrl)
  const s2 = await m.connect(broker.mqttUrl)
  const in1 = m.collector(s1)
  const in2 = m.collector(s2)
  const ch = await a.channel(amqp)
  const pub = await m.connect(broker.mqttUrl)
  try {
    await s1.subscribeAsync('$share/workers/jobs/#', { qos: 1 })
    await s2.subscribeAsync('$share/workers/jobs/#', { qos: 1 })
    const queue = 'mqtt-share/workers/jobs/#'
    const info = await ch.checkQueue(queue)
    assert.equal(info.consumerCount, 2)
    await ch.prefetch(5)
    const amqpIn = await a.consume(ch, queue, { noAck: false }, d => ch.ack(d))
    const n = 60
    for (let i = 0; i < n; i++) await pub.publishAsync(`jobs/j${i}`, `job-${i}`, { qos: 1 })
    await a.eventually('all jobs delivered once', () => in1.messages.length + in2.messages.length + amqpIn.messages.length >= n, 10000)
    await a.holdsFor('no message delivered twice', () => in1.messages.length + in2.messages.length + amqpIn.messages.length === n, 200)
    const all = [...in1.messages.map(x => x.payload), ...in2.messages.map(x => x.payload), ...amqpIn.bodies()]
    assert.equal(all.length, n, 'no message twice')
    assert.equal(new Set(all).size, n)
    assert.ok(
      in1.messages.length > 0 && in2.messages.length > 0 && amqpIn.messages.length > 0,
      `every member got some: ${in1.messages.length}/${in2.messages.length}/${amqpIn.messages.length}`
    )
    assert.equal(amqpIn.messages[0]?.fields.routingKey.startsWith('jobs.'), true)
    // A member that leaves stops being a consumer of the group's queue.
    await m.end(s1)
    await a.eventually('the group has two consumers left', async () => (await ch.checkQueue(queue)).consumerCount === 2)
  } finally {
    await m.end(s2, pub) // s1 ended above (mqtt.js never settles a second end)
    await ch.close()
  }
})

test('GET /api/queues lists AMQP queues, MQTT sessions and shared-subscription queues in one list', { timeout: 15000 }, async () => {
  const ch = await a.channel(amqp)
  await ch.assertQueue('listed-durable', { durable: true })
  ch.sendToQueue('listed-durable', Buffer.from('x'), { persistent: true })
  const persistent = await m.connect(broker.mqttUrl, { clientId: 'listed-device', clean: false })
  await persistent.subscribeAsync('listed/#', { qos: 1 })
  const clean = await m.connect(broker.mqttUrl, { clientId: 'listed-clean', clean: true })
  try {
    await a.eventually('the AMQP message is counted', async () => {
      const res = await adminFetch(`${broker.adminUrl}/api/queues/%2F/listed-durable`)
      return res.status === 200 && ((await res.json()) as { messages: number }).messages === 1
    })
    const all = (await (await adminFetch(`${broker.adminUrl}/api/queues`)).json()) as Array<Record<string, unknown>>
    const byName = new Map(all.map(q => [q['name'], q]))
    assert.deepEqual(pick(byName.get('listed-durable')), { vhost: '/', durable: true, messages: 1, consumers: 0, type: 'classic' })
    assert.deepEqual(pick(byName.get('mqtt-session/listed-device')), { vhost: '/', durable: true, messages: 0, consumers: 1, type: 'mqtt-session' })
    assert.deepEqual(pick(byName.get('mqtt-session/listed-clean')), { vhost: '/', durable: false, messages: 0, consumers: 1, type: 'mqtt-session' })
    await m.end(persistent)
    await a.eventually('the session is offline', async () => {
      const q = (await (await adminFetch(`${broker.adminUrl}/api/queues/%2F/${encodeURIComponent('mqtt-session/listed-device')}`)).json()) as {
        consumers: number
      }
      return q.consumers === 0
    })
    ch.publish('amq.topic', 'listed.a', Buffer.from('while-away'), { deliveryMode: 2 })
    await a.eventually('the offline session counts its message', async () => {
      const res = await adminFetch(`${broker.adminUrl}/api/queues/%2F/${encodeURIComponent('mqtt-session/listed-device')}`)
      const q = (await res.json()) as { messages: number; consumers: number }
      return q.messages === 1 && q.consumers === 0
    })
    const inVhost = (await (await adminFetch(`${broker.adminUrl}/api/queues/%2F`)).json()) as unknown[]
    assert.equal(inVhost.length, all.length)
    const missing = await adminFetch(`${broker.adminUrl}/api/queues/%2F/nope`)
    assert.equal(missing.status, 404)
  } finally {
    await m.end(clean)
    await ch.close()
  }
})

function pick(q: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (q === undefined) return undefined
  return { vhost: q['vhost'], durable: q['durable'], messages: q['messages'], consumers: q['consumers'], type: q['type'] }
}

test('a message routed to a durable AMQP queue and an offline MQTT session is stored once, and goes when both are done', { timeout: 20000 }, async () => {
  const ch = await a.channel(amqp)
  await ch.assertQueue('once-durable', { durable: true })
  await ch.bindQueue('once-durable', 'amq.topic', 'once.#')
  const offline = await m.connect(broker.mqttUrl, { clientId: 'once-device', clean: false })
  await offline.subscribeAsync('once/#', { qos: 1 })
  await m.end(offline)
  const db = new Database(join(broker.dataDir, 'wharf.db'), { readonly: true })
  const rows = (): number =>
    (db.prepare("SELECT count(*) AS n FROM messages WHERE payload = CAST('stored-once' AS BLOB) OR payload = 'stored-once'").get() as { n: number }).n
  const refs = (): number[] =>
    (db.prepare("SELECT refs FROM messages WHERE payload = CAST('stored-once' AS BLOB) OR payload = 'stored-once'").all() as Array<{ refs: number }>).map(
      r => r.refs
    )
  const pub = await m.connect(broker.mqttUrl)
  try {
    await pub.publishAsync('once/a', 'stored-once', { qos: 1 }) // PUBACK: both copies committed
    assert.equal(rows(), 1, 'one messages row for the AMQP queue and the MQTT session')
    assert.deepEqual(refs(), [2])
    const confirm = await amqp.createConfirmChannel()
    confirm.publish('amq.topic', 'once.b', Buffer.from('stored-once'), { deliveryMode: 2 })
    await confirm.waitForConfirms()
    await confirm.close()
    assert.equal(rows(), 2, 'an AMQP publish to both is stored once too (two messages, two rows)')
    assert.deepEqual(refs(), [2, 2])
    const inbox = await a.consume(ch, 'once-durable', { noAck: false }, d => ch.ack(d))
    await inbox.waitFor(2)
    const back = await m.connect(broker.mqttUrl, { clientId: 'once-device', clean: false })
    const backIn = m.collector(back)
    const got = await backIn.waitFor(2)
    assert.deepEqual(got.map(x => x.topic).sort(), ['once/a', 'once/b'])
    await a.eventually('both rows are gone once both sides acknowledged', () => rows() === 0, 5000)
    await m.end(back)
  } finally {
    db.close()
    await m.end(pub)
    await ch.close()
  }
})
