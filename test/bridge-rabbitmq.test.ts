// Issue 13: bridges whose remote is Debian's RabbitMQ (started by this file, one node for all its
// tests): over AMQP 0-9-1 with publisher confirms, and over its MQTT plugin (MQTT 3.1.1). Numbered
// messages up in order, a command down (also to an edge that was restarted), properties across the
// hop, and the node stopped mid-stream and started again.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { TestBroker } from './support/test-broker.ts'
import { connect as amqpConnect, consume, closeQuietly } from './support/amqp-helpers.ts'
import { collector, connect, end } from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'
import { amqpInbox, mqttInbox, type RemoteInbox } from './support/bridge-inboxes.ts'
import { bridgeTo, downlinkCommand, outageMs, remoteOutage, startEdge, uplinkInOrder, waitForBridge } from './support/bridge-scenarios.ts'
import { rabbitmqUnavailable, startRabbitmq, type RabbitmqNode } from './support/rabbitmq-node.ts'

const missing = rabbitmqUnavailable()

async function publishAtRabbit(rabbit: RabbitmqNode, routingKey: string, body: string, props: Record<string, unknown> = {}): Promise<void> {
  const conn = await amqpConnect(rabbit.amqpUrl)
  const ch = await conn.createConfirmChannel()
  ch.publish('amq.topic', routingKey, Buffer.from(body), { persistent: true, ...props })
  await ch.waitForConfirms()
  await conn.close()
}

describe('bridges to RabbitMQ', { skip: missing, timeout: 400_000 }, () => {
  let rabbit: RabbitmqNode
  before(async () => {
    rabbit = await startRabbitmq({ mqtt: true })
  })
  after(async () => {
    await rabbit?.stop()
  })

  describe('over AMQP 0-9-1', () => {
    let edge: TestBroker
    const inboxes: RemoteInbox[] = []
    before(async () => {
      edge = await startEdge([bridgeTo(rabbit.amqpUrl)])
      await waitForBridge(edge, 'connected', s => s.state === 'connected', 20_000)
    })
    after(async () => {
      for (const i of inboxes) await i.close()
      await edge?.close()
    })

    test('1000 QoS 1 messages go up in publish order, once each', async () => {
      const inbox = await amqpInbox(rabbit.amqpUrl, 'uplink-order', ['up.#'])
      inboxes.push(inbox)
      await uplinkInOrder(edge, inbox, 1000)
      await inbox.close()
    })

    test('a command published at RabbitMQ reaches a device on the edge', async () => {
      await downlinkCommand(edge, async (topic, body) => await publishAtRabbit(rabbit, topic.replaceAll('/', '.'), body))
    })

    test('properties survive the hop both ways (MQTT 5 User Properties as AMQP headers)', async () => {
      const conn = await amqpConnect(rabbit.amqpUrl)
      const ch = await conn.createChannel()
      await ch.assertQueue('props-up', { durable: true })
      await ch.bindQueue('props-up', 'amq.topic', 'up.props')
      const up = await consume(ch, 'props-up', { noAck: true })
      const pub = await connect(edge.mqttUrl, { clientId: 'props-pub', protocolVersion: 5 })
      await pub.publishAsync('up/props', '{"t":1}', {
        qos: 1,
        properties: {
          contentType: 'application/json',
          correlationData: Buffer.from('c-9'),
          responseTopic: 'reply/here',
          messageExpiryInterval: 120,
          userProperties: { site: 'east' }
        }
      })
      const [u] = await up.waitFor(1, 10_000)
      assert.equal(u?.properties.contentType, 'application/json')
      assert.equal(u?.properties.correlationId, 'c-9')
      assert.equal(u?.properties.replyTo, 'reply.here')
      assert.ok(Number(u?.properties.expiration) <= 120_000 && Number(u?.properties.expiration) > 110_000)
      assert.equal(u?.properties.deliveryMode, 2)
      assert.equal(u?.properties.headers?.site, 'east')
      assert.equal(u?.properties.headers?.['x-mqtt-publish-qos'], 1)
      assert.match(String(u?.properties.headers?.['x-wharf-via']), /^[0-9a-f]{16}$/)
      // down: RabbitMQ's properties reach an MQTT 5 device as MQTT 5 properties
      const dev = await connect(edge.mqttUrl, { clientId: 'props-dev', protocolVersion: 5 })
      const down = collector(dev)
      await dev.subscribeAsync('cmd/props', { qos: 1 })
      await publishAtRabbit(rabbit, 'cmd.props', 'do it', {
        contentType: 'text/plain',
        correlationId: 'corr-2',
        replyTo: 'replies.edge',
        expiration: '60000',
        headers: { who: 'cloud' }
      })
      const [d] = await down.waitFor(1, 10_000)
      const p = d?.properties as Record<string, unknown>
      assert.equal(p.contentType, 'text/plain')
      assert.deepEqual(p.correlationData, Buffer.from('corr-2'))
      assert.equal(p.responseTopic, 'replies/edge')
      assert.ok((p.messageExpiryInterval as number) <= 60 && (p.messageExpiryInterval as number) > 50)
      const user = { ...(p.userProperties as Record<string, unknown>) }
      assert.equal(user.who, 'cloud')
      assert.equal(user['x-wharf-bridge'], 'cloud')
      await end(pub, dev)
      await closeQuietly(conn)
    })

    test('a command sent while the edge is down reaches its device after the edge restarts', async () => {
      const options = { clientId: 'device-restart', protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 600 } }
      const device = await connect(edge.mqttUrl, options)
      await device.subscribeAsync('cmd/#', { qos: 1 })
      await end(device)
      const dir = edge.dataDir
      await edge.stop()
      await publishAtRabbit(rabbit, 'cmd.device-restart.update', 'v2')
      edge = await startEdge([bridgeTo(rabbit.amqpUrl)], dir)
      const again = await connect(edge.mqttUrl, options)
      const [m] = await collector(again).waitFor(1, 20_000)
      assert.deepEqual([m?.topic, m?.payload], ['cmd/device-restart/update', 'v2'])
      await end(again)
    })

    test(`RabbitMQ stopped for ${outageMs} ms mid-stream: everything acknowledged arrives, in order`, async () => {
      const inbox = await amqpInbox(rabbit.amqpUrl, 'outage', ['up.#'])
      inboxes.push(inbox)
      const r = await remoteOutage(edge, inbox, { outageMs, stop: () => rabbit.stopNode(), start: () => rabbit.startNode() })
      assert.ok(r.acked > 200)
    })
  })

  describe('over its MQTT plugin (MQTT 3.1.1)', () => {
    let edge: TestBroker
    before(async () => {
      edge = await startEdge([
        bridgeTo(rabbit.mqttUrl, { mqtt: { qos: 1, clientId: null, cleanSession: false, sessionExpirySeconds: 3600, protocolVersion: 4 } })
      ])
      await waitForBridge(edge, 'connected', s => s.state === 'connected', 20_000)
    })
    after(async () => {
      await edge?.close()
    })

    test('1000 QoS 1 messages go up in publish order, once each', async () => {
      const inbox = await mqttInbox(rabbit.mqttUrl, 'up/#', 'rabbit-mqtt-inbox', 4)
      await uplinkInOrder(edge, inbox, 1000)
      await inbox.close()
    })

    test('a command published at RabbitMQ (AMQP) reaches a device on the edge through the MQTT plugin', async () => {
      await downlinkCommand(edge, async (topic, body) => await publishAtRabbit(rabbit, topic.replaceAll('/', '.'), body))
    })

    test('topics and payloads survive the hop, bytes as they are (MQTT 3.1.1 has no properties)', async () => {
      const inbox = await mqttInbox(rabbit.mqttUrl, 'up/bin/#', 'rabbit-bin-inbox', 4)
      const pub = await connect(edge.mqttUrl, { clientId: 'bin-pub', protocolVersion: 5 })
      const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff])
      await pub.publishAsync('up/bin/gw-1/raw', bytes, { qos: 1 })
      await pub.publishAsync('up/bin/gw-1/text', 'grüße', { qos: 1 })
      await eventually('both at RabbitMQ', () => inbox.messages.length >= 2, 10_000)
      assert.deepEqual(
        inbox.messages.map(m => m.topic),
        ['up/bin/gw-1/raw', 'up/bin/gw-1/text']
      )
      assert.deepEqual(inbox.messages[0]?.bytes, bytes)
      assert.equal(inbox.messages[1]?.body, 'grüße')
      await end(pub)
      await inbox.close()
    })

    test('the bridge reports the remote kind and no node id (RabbitMQ is no Wharf)', async () => {
      const s = await waitForBridge(edge, 'connected', s => s.state === 'connected')
      assert.equal(s.remote, 'mqtt')
      assert.equal(s.remoteNodeId, null)
      await eventually('confirmed counted', () => s.confirmed >= 1000)
    })
  })
})
