// Publish rate limits through real clients: a publisher over its rate is throttled (its reads pause),
// never dropped. The rate a subscriber sees stays within 10% of the configured one and every message
// arrives, in order, over MQTT and AMQP, per connection and per user.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { performance } from 'node:perf_hooks'
import { adminFetch } from './support/admin-http.ts'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'
import { connect as amqpConnect, channel, consume, closeQuietly } from './support/amqp-helpers.ts'
import { hashPassword } from '../core/auth/password-hash.ts'

async function metric(broker: TestBroker, name: string): Promise<number> {
  const text = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
  return text
    .split('\n')
    .filter(l => l.startsWith(name + ' ') || l.startsWith(name + '{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)
}

/** Deliveries per second between the first and the last arrival. */
function rateOf(arrivalsMs: number[]): number {
  const spanMs = (arrivalsMs.at(-1) as number) - (arrivalsMs[0] as number)
  return (arrivalsMs.length - 1) / (spanMs / 1000)
}

/** Asserts and returns the line for the test's diagnostics. */
function assertWithin10Percent(measured: number, configured: number, what: string): string {
  const off = Math.abs(measured - configured) / configured
  const line = `${what}: measured ${measured.toFixed(1)}/s against ${configured}/s configured (${(off * 100).toFixed(1)}% off)`
  assert.ok(off <= 0.1, line)
  return line
}

describe('publish rate limits', { timeout: 90_000 }, () => {
  test('MQTT: limits.perConnection.publishMessagesPerSecond paces a pipelined QoS 1 publisher; nothing lost', async t => {
    const ratePerS = 200
    const n = 500
    const broker = await startTestBroker(c => {
      c.limits.perConnection.publishMessagesPerSecond = ratePerS
    })
    t.after(() => broker.close()) // here, not in the finally: a connect below that fails leaves nothing running
    const sub = await connect(broker.mqttUrl, { clientId: 'rate-sub' })
    const pub = await connect(broker.mqttUrl, { clientId: 'rate-pub' })
    try {
      const arrivals: number[] = []
      sub.on('message', () => arrivals.push(performance.now()))
      const got = collector(sub)
      await sub.subscribeAsync('rate/#', { qos: 1 })
      // Every publish handed to the client at once: the broker, not the client, sets the pace.
      const acks = Array.from({ length: n }, (_, i) => pub.publishAsync('rate/x', `m${i}`, { qos: 1 }))
      await Promise.all(acks)
      await got.waitFor(n, 10_000)
      assert.deepEqual(
        got.messages.map(m => m.payload),
        Array.from({ length: n }, (_, i) => `m${i}`),
        'all, in order'
      )
      t.diagnostic(assertWithin10Percent(rateOf(arrivals), ratePerS, 'MQTT messages/s'))
      assert.ok((await metric(broker, 'wharf_publish_throttled_total')) > 0, 'throttling is counted')
      assert.ok(broker.logs.some(l => l.msg === 'publisher throttled: reads paused' && l.limit === 'limits.perConnection.publishMessagesPerSecond'))
    } finally {
      await end(pub, sub)
    }
  })

  test('MQTT: limits.perConnection.publishBytesPerSecond counts payload bytes', async t => {
    const bytesPerS = 50_000
    const payload = Buffer.alloc(1000, 7)
    const n = 150 // 150 kB: three seconds at 50 kB/s
    const broker = await startTestBroker(c => {
      c.limits.perConnection.publishBytesPerSecond = bytesPerS
    })
    t.after(() => broker.close())
    const sub = await connect(broker.mqttUrl, { clientId: 'bytes-sub' })
    const pub = await connect(broker.mqttUrl, { clientId: 'bytes-pub' })
    try {
      const arrivals: number[] = []
      sub.on('message', () => arrivals.push(performance.now()))
      const got = collector(sub)
      await sub.subscribeAsync('bytes/#', { qos: 1 })
      await Promise.all(Array.from({ length: n }, () => pub.publishAsync('bytes/x', payload, { qos: 1 })))
      await got.waitFor(n, 10_000)
      t.diagnostic(assertWithin10Percent(rateOf(arrivals) * payload.length, bytesPerS, 'MQTT payload bytes/s'))
    } finally {
      await end(pub, sub)
    }
  })

  test('AMQP: limits.perConnection.publishMessagesPerSecond paces basic.publish; every message consumed', async t => {
    const ratePerS = 200
    const n = 500
    const broker = await startTestBroker(c => {
      c.limits.perConnection.publishMessagesPerSecond = ratePerS
    })
    t.after(() => broker.close())
    const consumerConn = await amqpConnect(broker.amqpUrl)
    const publisherConn = await amqpConnect(broker.amqpUrl)
    try {
      const cch = await channel(consumerConn)
      const q = (await cch.assertQueue('', { exclusive: true })).queue
      const arrivals: number[] = []
      const inbox = await consume(cch, q, { noAck: true }, () => arrivals.push(performance.now()))
      const pch = await publisherConn.createConfirmChannel()
      for (let i = 0; i < n; i++) pch.sendToQueue(q, Buffer.from(`m${i}`))
      await pch.waitForConfirms()
      await inbox.waitFor(n, 10_000)
      assert.deepEqual(
        inbox.bodies(),
        Array.from({ length: n }, (_, i) => `m${i}`)
      )
      t.diagnostic(assertWithin10Percent(rateOf(arrivals), ratePerS, 'AMQP messages/s'))
    } finally {
      await closeQuietly(publisherConn, consumerConn)
    }
  })

  test('MQTT over WebSocket is paced the same way', async t => {
    const ratePerS = 200
    const n = 400
    const broker = await startTestBroker(c => {
      c.limits.perConnection.publishMessagesPerSecond = ratePerS
    })
    t.after(() => broker.close())
    const sub = await connect(broker.mqttUrl, { clientId: 'ws-rate-sub' })
    const pub = await connect(broker.wsUrl, { clientId: 'ws-rate-pub' })
    try {
      const arrivals: number[] = []
      sub.on('message', () => arrivals.push(performance.now()))
      const got = collector(sub)
      await sub.subscribeAsync('wsrate/#', { qos: 1 })
      await Promise.all(Array.from({ length: n }, (_, i) => pub.publishAsync('wsrate/x', `m${i}`, { qos: 1 })))
      await got.waitFor(n, 10_000)
      assert.deepEqual(
        got.messages.map(m => m.payload),
        Array.from({ length: n }, (_, i) => `m${i}`)
      )
      t.diagnostic(assertWithin10Percent(rateOf(arrivals), ratePerS, 'MQTT over WebSocket messages/s'))
    } finally {
      await end(pub, sub)
    }
  })

  test('AMQP: a publisher held longer than two heartbeat intervals is throttled, not dropped as silent', async t => {
    const broker = await startTestBroker(c => {
      c.amqp.heartbeatSeconds = 1
      c.limits.perConnection.publishBytesPerSecond = 2000
    })
    t.after(() => broker.close())
    const conn = await amqpConnect(`${broker.amqpUrl}?heartbeat=1`)
    try {
      let closed = false
      conn.on('close', () => {
        closed = true
      })
      const ch = await conn.createConfirmChannel()
      const q = (await ch.assertQueue('', { exclusive: true })).queue
      const started = performance.now()
      ch.sendToQueue(q, Buffer.alloc(8000)) // four seconds of the byte rate: reads pause ~4 s, two heartbeat intervals are 2 s
      ch.sendToQueue(q, Buffer.from('after the pause'))
      await ch.waitForConfirms()
      const waitedMs = performance.now() - started
      assert.ok(waitedMs > 3000, `the second publish waited for the byte rate (${waitedMs.toFixed(0)} ms)`)
      assert.equal(closed, false, 'not dropped for missed heartbeats')
      assert.equal((await ch.checkQueue(q)).messageCount, 2)
    } finally {
      await closeQuietly(conn)
    }
  })

  test("limits.perUser: one user's MQTT and AMQP connections share one rate", async t => {
    const ratePerS = 200
    const perClient = 250
    const passwordHash = hashPassword('pw')
    const broker = await startTestBroker(c => {
      c.limits.perUser.publishMessagesPerSecond = ratePerS
      c.auth.users = [{ username: 'meter', passwordHash }]
    })
    t.after(() => broker.close())
    const sub = await connect(broker.mqttUrl, { clientId: 'user-sub' })
    const mqttPub = await connect(broker.mqttUrl, { clientId: 'user-pub', username: 'meter', password: 'pw' })
    const amqpPub = await amqpConnect(`amqp://meter:pw@127.0.0.1:${broker.node.ports.amqp}`)
    try {
      const arrivals: number[] = []
      sub.on('message', () => arrivals.push(performance.now()))
      const got = collector(sub)
      await sub.subscribeAsync('user/#', { qos: 1 })
      const ch = await amqpPub.createConfirmChannel()
      for (let i = 0; i < perClient; i++) ch.publish('amq.topic', 'user.amqp', Buffer.from(`a${i}`))
      const mqttDone = Promise.all(Array.from({ length: perClient }, (_, i) => mqttPub.publishAsync('user/mqtt', `q${i}`, { qos: 1 })))
      await Promise.all([mqttDone, ch.waitForConfirms()])
      await got.waitFor(2 * perClient, 10_000)
      t.diagnostic(assertWithin10Percent(rateOf(arrivals), ratePerS, 'both connections of the user together'))
    } finally {
      await end(mqttPub, sub)
      await closeQuietly(amqpPub)
    }
  })
})
