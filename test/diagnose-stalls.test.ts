// /api/diagnose (issue 12) for consumers that take nothing and for publishers held by a bridge, each
// produced with real clients: an AMQP consumer and an MQTT 5 client behind a proxy that stops reading
// what the broker sends (their windows have room, their sockets are full), beside an AMQP consumer at
// its prefetch; a bridge whose remote is down, its backlog over backlogBytesMax (policy block), so
// MQTT and AMQP publishers are held until the remote comes up; and a bridge whose remote takes its
// messages but does not confirm them (the remote's own disk watermark holds it), its window full.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { ChannelModel } from 'amqplib'
import type { MqttClient } from 'mqtt'
import type { Diagnosis } from '../core/diagnosis/diagnose.ts'
import type { Finding } from '../core/diagnosis/finding.ts'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect as amqpConnect, consume } from './support/amqp-helpers.ts'
import { connect as mqttConnect, end } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'
import { eventually } from './support/wait.ts'
import { startStallingProxy, type StallingProxy } from './support/stalling-proxy.ts'
import { bridgeTo, startEdge, waitForBridge } from './support/bridge-scenarios.ts'
import { restartablePorts } from '../bench/brokers/free-port.ts'

async function diagnosis(adminUrl: string): Promise<Diagnosis> {
  const res = await adminFetch(`${adminUrl}/api/diagnose`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200)
  return (await res.json()) as Diagnosis
}

function findingOf(d: Diagnosis, queue: string, cause: Finding['cause']): Finding | undefined {
  return d.queues.find(q => q.queue === queue)?.findings.find(f => f.cause === cause)
}

/** Polls /api/diagnose until `pick` finds something; the last answer is in the timeout's message. */
async function until<T>(adminUrl: string, what: string, pick: (d: Diagnosis) => T | undefined, timeoutMs = 20_000): Promise<T> {
  let found: T | undefined
  let last: Diagnosis | undefined
  await eventually(
    `${what} (last diagnosis: ${JSON.stringify(last)})`,
    async () => {
      last = await diagnosis(adminUrl)
      found = pick(last)
      return found !== undefined
    },
    timeoutMs
  )
  return found as T
}

/** Large bodies: the proxy's and the broker's socket buffers (several MiB on loopback) fill soon. */
const BODY = Buffer.alloc(64 * 1024, 'x')
const MESSAGES = 600

describe('consumers that take nothing: windows with room, sockets full', { timeout: 120_000 }, () => {
  let broker: TestBroker
  let amqpProxy: StallingProxy
  let mqttProxy: StallingProxy
  const conns: ChannelModel[] = []
  const clients: MqttClient[] = []

  before(async () => {
    broker = await startTestBroker(config => {
      config.log.level = 'info'
      config.diagnose.sampleIntervalSeconds = 1
    })
    amqpProxy = await startStallingProxy(Number(new URL(broker.amqpUrl).port))
    mqttProxy = await startStallingProxy(Number(new URL(broker.mqttUrl).port))
  })
  after(async () => {
    await end(...clients)
    await closeQuietly(...conns)
    // A proxy whose start failed is not there to close; the broker still is.
    await amqpProxy?.close()
    await mqttProxy?.close()
    await broker.close()
  })

  test('an AMQP consumer whose socket is full beside one at its prefetch: both named, 1 of 2 each; it reads again and the queue drains', async () => {
    const slowConn = await amqpConnect(`amqp://guest:guest@127.0.0.1:${amqpProxy.port}`)
    conns.push(slowConn)
    const slow = await channel(slowConn)
    await slow.assertQueue('reports')
    const taken = await consume(slow, 'reports', { noAck: true }) // no prefetch: its window never fills
    const fullConn = await amqpConnect(broker.amqpUrl)
    conns.push(fullConn)
    const full = await channel(fullConn)
    await full.prefetch(1)
    await consume(full, 'reports') // takes one, never acks
    amqpProxy.stall()
    const pub = await amqpConnect(broker.amqpUrl)
    conns.push(pub)
    const confirms = await pub.createConfirmChannel()
    for (let i = 0; i < MESSAGES; i++) confirms.sendToQueue('reports', BODY)
    await confirms.waitForConfirms()

    const notReading = await until(broker.adminUrl, 'the stalled consumer named', d => findingOf(d, 'reports', 'consumers-not-reading'))
    assert.deepEqual([notReading.numbers.consumers, notReading.numbers.consumersTotal], [1, 2])
    assert.ok(Number(notReading.numbers.ready) > 0)
    assert.match(
      notReading.summary,
      /^1 of 2 consumers have room in their window but take nothing \(their connections' send buffers are full, or flow is off\) while \d+ wait$/
    )
    assert.match(notReading.suggestion, /read their sockets too slowly/)
    const atPrefetch = findingOf(await diagnosis(broker.adminUrl), 'reports', 'consumers-at-prefetch')
    assert.ok(atPrefetch !== undefined, 'the consumer at its prefetch is named beside it')
    assert.deepEqual([atPrefetch.numbers.consumers, atPrefetch.numbers.unacked, atPrefetch.numbers.windowMax], [1, 1, 1])
    assert.match(atPrefetch.summary, /^1 of 2 consumers are at their prefetch/)

    amqpProxy.resume()
    await taken.waitFor(MESSAGES - 1, 60_000)
    await until(broker.adminUrl, 'the queue drained and no longer diagnosed', d => (d.queues.some(q => q.queue === 'reports') ? undefined : true))
  })

  test('an MQTT 5 client whose socket is full, its Receive Maximum far from reached: its session is named', async () => {
    const reader = await mqttConnect(`mqtt://127.0.0.1:${mqttProxy.port}`, {
      clientId: 'stalled-display',
      protocolVersion: 5,
      keepalive: 0,
      properties: { receiveMaximum: 65_535 }
    })
    clients.push(reader)
    await reader.subscribeAsync('screens/#', { qos: 1 })
    mqttProxy.stall()
    const pub = await mqttConnect(broker.mqttUrl, { clientId: 'screen-feed', protocolVersion: 5 })
    clients.push(pub)
    await Promise.all(Array.from({ length: MESSAGES }, () => pub.publishAsync('screens/lobby', BODY, { qos: 1 })))
    const f = await until(broker.adminUrl, 'the stalled session named', d => findingOf(d, 'mqtt-session/stalled-display', 'consumers-not-reading'))
    assert.deepEqual([f.numbers.consumers, f.numbers.consumersTotal], [1, 1])
    assert.match(f.summary, /^all 1 consumers have room in their window but take nothing/)
    const d = await diagnosis(broker.adminUrl)
    assert.equal(findingOf(d, 'mqtt-session/stalled-display', 'consumers-at-prefetch'), undefined, 'no slow acks: the window has room')
    const q = d.queues.find(q => q.queue === 'mqtt-session/stalled-display')
    assert.ok(q !== undefined && q.unacked < 65_535 && q.backlog > 0, JSON.stringify(q))
    mqttProxy.resume()
    await until(broker.adminUrl, 'the session drained', d => (d.queues.some(q => q.queue === 'mqtt-session/stalled-display') ? undefined : true), 60_000)
  })
})

describe('publishers held by a bridge', { timeout: 120_000 }, () => {
  test('its remote down, the backlog over backlogBytesMax: the bridge, its link and the figures; cleared when the remote is up', async t => {
    const [port] = (await restartablePorts(1)) as [number]
    const edge = await startEdge([bridgeTo(`amqp://guest:guest@127.0.0.1:${port}`, { backlogBytesMax: 20_000 })])
    t.after(() => edge.close()) // here, not in the finally: a connect below that fails leaves nothing running
    let cloud: TestBroker | undefined
    const pub = await mqttConnect(edge.mqttUrl, { clientId: 'meter-7', protocolVersion: 5 })
    let amqp: ChannelModel | undefined
    try {
      amqp = await amqpConnect(edge.amqpUrl)
      const ch = await channel(amqp)
      let refused = 0
      for (let n = 0; n < 100 && refused === 0; n++) {
        await pub.publishAsync('up/readings', `${n}:${'r'.repeat(1000)}`, { qos: 1 }).catch(() => {
          refused++
        })
      }
      assert.equal(refused, 1, 'an MQTT 5 publish is refused at the bound')
      ch.publish('amq.topic', 'up.readings', Buffer.from('from amqp')) // the AMQP publisher is then blocked
      const f = await until(edge.adminUrl, 'publishers held by the bridge', d =>
        d.node.find(n => n.cause === 'publishers-blocked-bridge' && Number(n.numbers.blockedConnections) === 1)
      )
      assert.equal(f.numbers.bridge, 'cloud')
      assert.equal(f.numbers.backlogBytesMax, 20_000)
      assert.ok(Number(f.numbers.backlogBytes) > 20_000, `backlog ${f.numbers.backlogBytes} bytes`)
      assert.ok(Number(f.numbers.backlogMessages) >= 20)
      assert.ok(Number(f.numbers.refusedPublishes) >= 1)
      assert.notEqual(f.numbers.state, 'connected')
      assert.match(String(f.numbers.lastError), /ECONNREFUSED/)
      assert.match(
        f.summary,
        new RegExp(
          `^publishers in vhost '/' are held by bridge cloud: its backlog [\\d.]+ KiB \\(\\d+ messages\\) is over bridges\\[\\]\\.backlogBytesMax 19\\.5 KiB and its link to amqp://guest:\\S*@?127\\.0\\.0\\.1:${port}\\S* is (backing-off|connecting|error) \\(.*ECONNREFUSED.*\\) \\(1 AMQP connections blocked, \\d+ MQTT publishes refused\\)$`
        )
      )
      assert.match(f.suggestion, /bring the remote .* back/)
      const status = await waitForBridge(edge, 'its status', () => true)
      const link = await until(edge.adminUrl, 'the bridge queue named', d => findingOf(d, status.queue, 'bridge-link-down'))
      assert.equal(link.numbers.bridge, 'cloud')
      assert.ok(Number(link.numbers.ready) >= 20)
      assert.match(link.summary, /^bridge cloud cannot forward: its link to .* is \S+ \(.*ECONNREFUSED.*\); \d+ messages wait$/)
      const d = await diagnosis(edge.adminUrl)
      const causes = d.queues.find(q => q.queue === status.queue)?.findings.map(x => x.cause)
      assert.deepEqual(causes, ['bridge-link-down'], 'not taken for a consumer with a full socket or slow acks')

      cloud = await startTestBroker(c => {
        c.amqp.port = port
        c.log.level = 'warn'
      })
      await until(edge.adminUrl, 'the hold cleared and the backlog forwarded', d => (d.healthy ? d : undefined), 30_000)
    } finally {
      await end(pub)
      await closeQuietly(amqp)
      await cloud?.close()
    }
  })

  test('its remote up but not confirming (held by its own disk watermark): the window full, the remote named', async t => {
    // The remote's watermark is below its database's size at start: it holds every publisher.
    const cloud = await startTestBroker(c => {
      c.storage.localBytesMax = 4096
      c.tiering.localBytesMax = 1024
      c.storage.diskCheckIntervalMs = 20
      c.log.level = 'warn'
    })
    t.after(() => cloud.close()) // registered at each start: a later one that fails, or the connect below, leaves nothing running
    const edge = await startEdge([bridgeTo(cloud.amqpUrl, { inflightMessagesMax: 5 })])
    t.after(() => edge.close())
    const pub = await mqttConnect(edge.mqttUrl, { clientId: 'meter-8', protocolVersion: 5 })
    try {
      await waitForBridge(edge, 'connected', s => s.state === 'connected')
      for (let n = 0; n < 20; n++) await pub.publishAsync('up/readings', `reading ${n}`, { qos: 1 })
      const status = await waitForBridge(edge, 'its window full', s => s.backlog.inflightMessages === 5)
      const f = await until(edge.adminUrl, 'the slow remote named', d => findingOf(d, status.queue, 'bridge-remote-slow'))
      // The remote may take (and confirm) a first message before its watermark holds the link's reads.
      assert.deepEqual([f.numbers.inflight, f.numbers.windowMax], [5, 5])
      assert.ok(Number(f.numbers.ready) >= 10 && Number(f.numbers.ready) <= 15, `${f.numbers.ready} ready`)
      assert.match(f.summary, /^bridge cloud's window is full \(5 of 5 sent, not confirmed\) while \d+ wait: amqp:\/\/.* confirms [\d.]+\/s$/)
      assert.match(f.suggestion, /bridges\[\]\.inflightMessagesMax of 'cloud'/)
    } finally {
      await end(pub)
    }
  })
})
