// Issue 13: a bridge's backlog bound while its remote is away. block: publishers are throttled as by
// the disk watermark (MQTT 5 PUBACK 0x97, AMQP connection.blocked) and nothing is dropped; once the
// remote is back the backlog drains and publishers go again. drop-oldest: publishers are never
// refused, the oldest messages are dropped and counted, and what is left arrives, newest kept.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, end } from './support/mqtt-helpers.ts'
import { connect as amqpConnect, closeQuietly } from './support/amqp-helpers.ts'
import { eventually } from './support/wait.ts'
import { amqpInbox } from './support/bridge-inboxes.ts'
import { checkArrivals } from './support/bridge-checks.ts'
import { bridgeTo, startEdge, waitForBridge } from './support/bridge-scenarios.ts'
import { restartablePorts } from '../bench/brokers/free-port.ts'

const body = (n: number): string => `${n}:${'x'.repeat(1000)}`
const numberOf = (b: string): string => String(Number.parseInt(b, 10))

/**
 * The cloud comes up with its inbox queue already declared and bound: the bridge reconnects within
 * its 400 ms backoff, and a message it forwarded before the test's consumer had bound its queue was
 * confirmed by the remote and routed nowhere (the flake seen under load).
 */
async function cloudOn(port: number, inbox: string): Promise<TestBroker> {
  const prepared = await startTestBroker(c => {
    c.log.level = 'warn'
  })
  try {
    const conn = await amqpConnect(prepared.amqpUrl)
    const ch = await conn.createChannel()
    await ch.assertQueue(inbox, { durable: true })
    await ch.bindQueue(inbox, 'amq.topic', 'up.#')
    await closeQuietly(conn)
  } finally {
    await prepared.stop() // also when the declaration failed: else it stays up and the file waits out its timeout
  }
  return await startTestBroker(c => {
    c.amqp.port = port
    c.log.level = 'info'
  }, prepared.dataDir)
}

test('block: at the bound publishers are throttled, nothing is dropped, and they go again once it drains', { timeout: 60_000 }, async () => {
  const [port] = (await restartablePorts(1)) as [number]
  const edge = await startEdge([bridgeTo(`amqp://guest:guest@127.0.0.1:${port}`, { backlogBytesMax: 20_000 })])
  let cloud: TestBroker | undefined
  try {
    const pub = await connect(edge.mqttUrl, { clientId: 'block-pub', protocolVersion: 5 })
    const amqp = await amqpConnect(edge.amqpUrl)
    let amqpBlocked = ''
    let amqpUnblocked = false
    amqp.on('blocked', (reason: string) => {
      amqpBlocked = reason
    })
    amqp.on('unblocked', () => {
      amqpUnblocked = true
    })
    const acked: number[] = []
    let refusal: Error | undefined
    for (let n = 0; n < 100 && refusal === undefined; n++) {
      try {
        await pub.publishAsync('up/seq', body(n), { qos: 1 })
        acked.push(n)
      } catch (err) {
        refusal = err as Error
      }
    }
    assert.match(String(refusal?.message), /Quota exceeded/, 'an MQTT 5 publisher gets PUBACK 0x97 at the bound')
    assert.ok(acked.length >= 4 && acked.length <= 21, `${acked.length} acknowledged before the refusal`)
    await eventually('AMQP publishers told connection.blocked', () => amqpBlocked !== '')
    assert.match(amqpBlocked, /bridge cloud: backlog .* over bridges\[\]\.backlogBytesMax/)
    const held = await waitForBridge(edge, 'holding publishers', s => s.backlog.blockingPublishers)
    assert.equal(held.dropped, 0)
    // Nobody listens on the remote's port: the link is backing off, or in the moment of a new attempt.
    assert.ok(held.state === 'backing-off' || held.state === 'connecting', `link state ${held.state}`)
    cloud = await cloudOn(port, 'block-inbox')
    const inbox = await amqpInbox(cloud.amqpUrl, 'block-inbox', ['up.#'])
    await waitForBridge(edge, 'drained and publishers let go', s => s.backlog.messages === 0 && !s.backlog.blockingPublishers, 20_000)
    await eventually('AMQP publishers told connection.unblocked', () => amqpUnblocked)
    for (let n = 100; n < 105; n++) {
      await pub.publishAsync('up/seq', body(n), { qos: 1 })
      acked.push(n)
    }
    await eventually('everything acknowledged at the remote', () => new Set(inbox.bodies().map(numberOf)).size >= acked.length, 20_000)
    const report = checkArrivals(
      inbox.messages.map(m => ({ ...m, body: numberOf(m.body) })),
      acked,
      'block'
    )
    assert.equal(report.duplicates, 0)
    assert.equal((await waitForBridge(edge, 'counted', s => s.confirmed >= acked.length)).dropped, 0)
    await inbox.close()
    await end(pub)
    await closeQuietly(amqp)
  } finally {
    await edge.close()
    await cloud?.close()
  }
})

test('drop-oldest: publishers are never refused; the oldest are dropped, counted, logged once per interval; the newest arrive in order', {
  timeout: 60_000
}, async () => {
  const [port] = (await restartablePorts(1)) as [number]
  const edge = await startEdge([
    bridgeTo(`amqp://guest:guest@127.0.0.1:${port}`, { backlogBytesMax: 20_000, backlogPolicy: 'drop-oldest', logIntervalSeconds: 60 })
  ])
  let cloud: TestBroker | undefined
  try {
    const pub = await connect(edge.mqttUrl, { clientId: 'drop-pub', protocolVersion: 5 })
    const total = 100
    for (let n = 0; n < total; n++) await pub.publishAsync('up/seq', body(n), { qos: 1 })
    const s = await waitForBridge(edge, 'drops counted', s => s.dropped > 0)
    assert.ok(s.backlog.bytes <= 20_000, `backlog ${s.backlog.bytes} bytes`)
    assert.equal(s.dropped + s.backlog.messages, total)
    assert.equal(s.backlog.blockingPublishers, false)
    const warnings = edge.logs.filter(l => String(l.msg).startsWith('backlog full'))
    assert.equal(warnings.length, 1, 'one warning for the whole burst')
    cloud = await cloudOn(port, 'drop-inbox')
    const inbox = await amqpInbox(cloud.amqpUrl, 'drop-inbox', ['up.#'])
    await eventually('the rest at the remote', () => inbox.messages.length >= s.backlog.messages, 20_000)
    const kept = Array.from({ length: total - s.dropped }, (_, i) => s.dropped + i)
    assert.deepEqual(
      inbox.messages.map(m => Number(numberOf(m.body))),
      kept,
      'the newest, in order'
    )
    const metrics = await waitForBridge(edge, 'drained', s => s.backlog.messages === 0)
    assert.equal(metrics.dropped, s.dropped)
    await inbox.close()
    await end(pub)
  } finally {
    await edge.close()
    await cloud?.close()
  }
})
