// Issue 13: a bridge whose remote is a second Wharf (in this process), over AMQP 0-9-1 and over
// MQTT 5: numbered messages up in order, a command down (also to an edge that was restarted), the
// properties of both protocols across the hop, an outage of the remote mid-stream, and what
// /api/bridges and /metrics show.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChannelModel } from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect as amqpConnect, consume, closeQuietly } from './support/amqp-helpers.ts'
import { collector, connect, end } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'
import { eventually } from './support/wait.ts'
import { amqpInbox, mqttInbox, type RemoteInbox } from './support/bridge-inboxes.ts'
import { bridgeStatus, bridgeTo, downlinkCommand, outageMs, remoteOutage, startEdge, uplinkInOrder, waitForBridge } from './support/bridge-scenarios.ts'
import { restartablePorts } from '../bench/brokers/free-port.ts'
import { metricTypes, promtoolCheckMetrics, samples } from './support/promtool.ts'

interface Cloud {
  broker: TestBroker
  restart(): Promise<void>
  stop(): Promise<void>
  close(): Promise<void>
}

/** The cloud Wharf on fixed ports, so it can be stopped and started again where the bridge looks for it. */
async function startCloud(): Promise<Cloud> {
  const [mqttPort, amqpPort] = await restartablePorts(2)
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cloud-'))
  const start = async (): Promise<TestBroker> =>
    await startTestBroker(c => {
      c.mqtt.port = mqttPort as number
      c.amqp.port = amqpPort as number
      c.log.level = 'info'
    }, dir)
  const cloud: Cloud = {
    broker: await start(),
    restart: async () => {
      cloud.broker = await start()
    },
    stop: async () => {
      await cloud.broker.stop()
    },
    close: async () => {
      await cloud.broker.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return cloud
}

describe('bridge to a Wharf over AMQP', { timeout: 180_000 }, () => {
  let cloud: Cloud
  let edge: TestBroker
  const inboxes: RemoteInbox[] = []
  const amqpConns: ChannelModel[] = []

  before(async () => {
    cloud = await startCloud()
    edge = await startEdge([bridgeTo(cloud.broker.amqpUrl)])
    await waitForBridge(edge, 'connected', s => s.state === 'connected')
  })
  after(async () => {
    for (const i of inboxes) await i.close()
    await closeQuietly(...amqpConns)
    await edge?.close()
    await cloud?.close()
  })

  test('500 QoS 1 messages go up in publish order, once each', async () => {
    const inbox = await amqpInbox(cloud.broker.amqpUrl, 'uplink-order', ['up.#'])
    inboxes.push(inbox)
    await uplinkInOrder(edge, inbox, 500)
    await inbox.close()
  })

  test('an AMQP publish to the MQTT exchange matching an out filter goes up too', async () => {
    const inbox = await amqpInbox(cloud.broker.amqpUrl, 'uplink-amqp', ['up.#'])
    inboxes.push(inbox)
    const conn = await amqpConnect(edge.amqpUrl)
    amqpConns.push(conn)
    const ch = await conn.createConfirmChannel()
    ch.publish('amq.topic', 'up.from.amqp', Buffer.from('via amqp'), { persistent: true })
    ch.publish('amq.topic', 'elsewhere', Buffer.from('not bridged'), { persistent: true })
    await ch.waitForConfirms()
    await eventually('the AMQP publish at the remote', () => inbox.messages.length >= 1)
    assert.deepEqual(
      inbox.messages.map(m => [m.topic, m.body]),
      [['up/from/amqp', 'via amqp']]
    )
    await inbox.close()
  })

  test('a command published at the remote reaches a device on the edge', async () => {
    await downlinkCommand(edge, async (topic, body) => {
      const conn = await amqpConnect(cloud.broker.amqpUrl)
      const ch = await conn.createConfirmChannel()
      ch.publish('amq.topic', topic.replaceAll('/', '.'), Buffer.from(body), { persistent: true })
      await ch.waitForConfirms()
      await conn.close()
    })
  })

  test('MQTT 5 properties survive the hop (AMQP in between)', async () => {
    const sub = await connect(cloud.broker.mqttUrl, { clientId: 'cloud-props', protocolVersion: 5 })
    const got = collector(sub)
    await sub.subscribeAsync('up/props', { qos: 1 })
    const pub = await connect(edge.mqttUrl, { clientId: 'edge-props', protocolVersion: 5 })
    await pub.publishAsync('up/props', '{"t":21.5}', {
      qos: 1,
      properties: {
        contentType: 'application/json',
        correlationData: Buffer.from('c-42'),
        responseTopic: 'reply/edge-1',
        messageExpiryInterval: 600,
        payloadFormatIndicator: true,
        userProperties: { site: 'north', k: ['1', '2'] }
      }
    })
    const [m] = await got.waitFor(1, 10_000)
    const p = m?.properties as Record<string, unknown>
    assert.equal(p.contentType, 'application/json')
    assert.deepEqual(p.correlationData, Buffer.from('c-42'))
    assert.equal(p.responseTopic, 'reply/edge-1')
    assert.equal(p.payloadFormatIndicator, true)
    assert.ok((p.messageExpiryInterval as number) <= 600 && (p.messageExpiryInterval as number) > 590, `expiry ${String(p.messageExpiryInterval)}`)
    const user = { ...(p.userProperties as Record<string, unknown>) }
    assert.equal(user.site, 'north')
    assert.deepEqual(user.k, ['1', '2'])
    assert.match(String(user['x-wharf-via']), /^[0-9a-f]{16}$/, 'the edge named itself in x-wharf-via')
    await end(sub, pub)
  })

  test('AMQP properties survive the hop both ways', async () => {
    const cloudConn = await amqpConnect(cloud.broker.amqpUrl)
    const edgeConn = await amqpConnect(edge.amqpUrl)
    amqpConns.push(cloudConn, edgeConn)
    const cloudCh = await cloudConn.createConfirmChannel()
    await cloudCh.assertQueue('props-up', { durable: true })
    await cloudCh.bindQueue('props-up', 'amq.topic', 'up.props.amqp')
    const up = await consume(cloudCh, 'props-up', { noAck: true })
    const edgeCh = await edgeConn.createConfirmChannel()
    const sent = {
      contentType: 'text/plain',
      contentEncoding: 'utf-8',
      correlationId: 'corr-1',
      replyTo: 'replies',
      messageId: 'm-1',
      type: 'reading',
      appId: 'sensor-app',
      timestamp: 1_700_000_000,
      priority: 3,
      headers: { h: 'v', n: 7 }
    }
    edgeCh.publish('amq.topic', 'up.props.amqp', Buffer.from('x'), { ...sent, persistent: true, expiration: '60000' })
    await edgeCh.waitForConfirms()
    const [u] = await up.waitFor(1, 10_000)
    for (const [k, v] of Object.entries(sent)) if (k !== 'headers') assert.deepEqual((u?.properties as unknown as Record<string, unknown>)[k], v, k)
    assert.equal(u?.properties.headers?.h, 'v')
    assert.equal(u?.properties.headers?.n, 7)
    assert.equal(u?.properties.deliveryMode, 2)
    assert.ok(Number(u?.properties.expiration) <= 60000 && Number(u?.properties.expiration) > 50000, `expiration ${String(u?.properties.expiration)}`)
    // and down: the edge's consumer sees the remote's properties and the bridge's mark
    await edgeCh.assertQueue('props-down', { durable: true })
    await edgeCh.bindQueue('props-down', 'amq.topic', 'cmd.props')
    const down = await consume(edgeCh, 'props-down', { noAck: true })
    cloudCh.publish('amq.topic', 'cmd.props', Buffer.from('y'), { ...sent, persistent: true })
    await cloudCh.waitForConfirms()
    const [d] = await down.waitFor(1, 10_000)
    for (const [k, v] of Object.entries(sent)) if (k !== 'headers') assert.deepEqual((d?.properties as unknown as Record<string, unknown>)[k], v, k)
    assert.equal(d?.properties.headers?.h, 'v')
    assert.equal(d?.properties.headers?.['x-wharf-bridge'], 'cloud')
  })

  test('a command sent while the edge is down reaches its device after the edge restarts', async () => {
    const device = await connect(edge.mqttUrl, { clientId: 'device-restart', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 600 } })
    await device.subscribeAsync('cmd/#', { qos: 1 })
    await end(device)
    const dir = edge.dataDir
    await edge.stop()
    const conn = await amqpConnect(cloud.broker.amqpUrl)
    const ch = await conn.createConfirmChannel()
    ch.publish('amq.topic', 'cmd.device-restart.update', Buffer.from('v2'), { persistent: true })
    await ch.waitForConfirms()
    await conn.close()
    edge = await startEdge([bridgeTo(cloud.broker.amqpUrl)], dir)
    const again = await connect(edge.mqttUrl, { clientId: 'device-restart', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 600 } })
    const [m] = await collector(again).waitFor(1, 10_000)
    assert.deepEqual([m?.topic, m?.payload], ['cmd/device-restart/update', 'v2'])
    await end(again)
  })

  test(`the remote stopped for ${outageMs} ms mid-stream: everything acknowledged arrives, in order`, async () => {
    const inbox = await amqpInbox(cloud.broker.amqpUrl, 'outage', ['up.#'])
    inboxes.push(inbox)
    const r = await remoteOutage(edge, inbox, { outageMs, stop: () => cloud.stop(), start: () => cloud.restart() })
    assert.ok(r.acked > 200)
  })

  test('/api/bridges and /metrics show the bridge', async () => {
    const list = (await (await adminFetch(`${edge.adminUrl}/api/bridges`)).json()) as Array<{ name: string }>
    assert.deepEqual(
      list.map(b => b.name),
      ['cloud']
    )
    const s = await bridgeStatus(edge)
    assert.equal(s.remote, 'amqp')
    assert.equal(s.queue, 'bridge/cloud')
    assert.doesNotMatch(s.url, /guest:guest/, 'the password is not shown')
    assert.ok(s.confirmed > 500 && s.forwarded >= s.confirmed)
    assert.match(s.remoteNodeId ?? '', /^[0-9a-f]{16}$/)
    assert.equal((await adminFetch(`${edge.adminUrl}/api/bridges/nope`)).status, 404)
    const queues = (await (await adminFetch(`${edge.adminUrl}/api/queues`)).json()) as Array<{ name: string }>
    assert.ok(
      queues.some(q => q.name === 'bridge/cloud'),
      'the bridge queue is listed'
    )
    const exposition = await (await adminFetch(`${edge.adminUrl}/metrics`)).text()
    const r = promtoolCheckMetrics(exposition)
    assert.deepEqual(
      r.problems.filter(p => p.includes('wharf_bridge')),
      []
    )
    assert.equal(metricTypes(exposition).get('wharf_bridge_confirmed_total'), 'counter')
    assert.equal(samples(exposition, 'wharf_bridge_connected').get('{bridge="cloud"}'), 1)
    assert.ok((samples(exposition, 'wharf_bridge_confirmed_total').get('{bridge="cloud"}') ?? 0) > 500)
    assert.ok(
      edge.logs.some(l => l.msg === 'bridge status' && l.bridge === 'cloud'),
      'a status line in the log'
    )
  })
})

describe('bridge to a Wharf over MQTT 5', { timeout: 180_000 }, () => {
  let cloud: Cloud
  let edge: TestBroker
  const inboxes: RemoteInbox[] = []

  before(async () => {
    cloud = await startCloud()
    edge = await startEdge([bridgeTo(cloud.broker.mqttUrl)])
    await waitForBridge(edge, 'connected', s => s.state === 'connected')
  })
  after(async () => {
    for (const i of inboxes) await i.close()
    await edge?.close()
    await cloud?.close()
  })

  test('500 QoS 1 messages go up in publish order, once each', async () => {
    const inbox = await mqttInbox(cloud.broker.mqttUrl, 'up/#', 'cloud-order', 5)
    inboxes.push(inbox)
    await uplinkInOrder(edge, inbox, 500)
    await inbox.close()
  })

  test('a command published at the remote reaches a device on the edge', async () => {
    await downlinkCommand(edge, async (topic, body) => {
      const c = await connect(cloud.broker.mqttUrl, { clientId: 'cloud-commander', protocolVersion: 5 })
      await c.publishAsync(topic, body, { qos: 1 })
      await end(c)
    })
  })

  test('MQTT 5 properties survive the hop both ways', async () => {
    const props = {
      contentType: 'application/json',
      correlationData: Buffer.from('c-7'),
      responseTopic: 'reply/x',
      messageExpiryInterval: 300,
      userProperties: { site: 'south', k: ['a', 'b'] }
    }
    const sub = await connect(cloud.broker.mqttUrl, { clientId: 'cloud-props5', protocolVersion: 5 })
    const up = collector(sub)
    await sub.subscribeAsync('up/props', { qos: 1 })
    const dev = await connect(edge.mqttUrl, { clientId: 'edge-props5', protocolVersion: 5 })
    const down = collector(dev)
    await dev.subscribeAsync('cmd/props', { qos: 1 })
    await dev.publishAsync('up/props', 'u', { qos: 1, properties: props })
    await sub.publishAsync('cmd/props', 'd', { qos: 1, properties: props })
    for (const inbox of [up, down]) {
      const [m] = await inbox.waitFor(1, 10_000)
      const p = m?.properties as Record<string, unknown>
      assert.equal(p.contentType, 'application/json')
      assert.deepEqual(p.correlationData, props.correlationData)
      assert.equal(p.responseTopic, 'reply/x')
      assert.ok((p.messageExpiryInterval as number) <= 300 && (p.messageExpiryInterval as number) > 290)
      const user = { ...(p.userProperties as Record<string, unknown>) }
      assert.equal(user.site, 'south')
      assert.deepEqual(user.k, ['a', 'b'])
    }
    assert.equal(
      (down.messages[0]?.properties?.userProperties as Record<string, unknown>)['x-wharf-bridge'],
      'cloud',
      'the downlink mark, among the User Properties in order'
    )
    await end(sub, dev)
  })

  test(`the remote stopped for ${outageMs} ms mid-stream: everything acknowledged arrives, in order`, async () => {
    const inbox = await mqttInbox(cloud.broker.mqttUrl, 'up/#', 'cloud-outage', 5)
    inboxes.push(inbox)
    const r = await remoteOutage(edge, inbox, { outageMs, stop: () => cloud.stop(), start: () => cloud.restart() })
    assert.ok(r.acked > 200)
  })
})
