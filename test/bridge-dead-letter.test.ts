// Issue 13, known limit: a message the remote refuses for good no longer holds the bridge in error
// forever. Against a second Wharf (in this process): over MQTT 5, a PUBACK 0x99 (Payload format
// invalid) and a message over the remote's Maximum Packet Size; over AMQP, a body over the remote's
// max message size (406 PRECONDITION_FAILED, the channel closed). Each refused message is moved to
// bridge-dead/cloud (in /api/queues) with its x-death history and the remote's reason, counted, and
// the messages after it arrive in order.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import type { ChannelModel, GetMessage } from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect as amqpConnect, channel, closeQuietly } from './support/amqp-helpers.ts'
import { connect, end } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'
import { eventually } from './support/wait.ts'
import { amqpInbox, mqttInbox, type RemoteInbox } from './support/bridge-inboxes.ts'
import { checkArrivals } from './support/bridge-checks.ts'
import { bridgeStatus, bridgeTo, publishNumbered, startEdge, waitForBridge } from './support/bridge-scenarios.ts'

const LIMIT_BYTES = 4096
const BIG_BODY = Buffer.alloc(3 * LIMIT_BYTES, 'x')

async function startCloud(limitBytes: { mqttPacket?: number; amqpBody?: number }): Promise<TestBroker> {
  return await startTestBroker(c => {
    if (limitBytes.mqttPacket !== undefined) c.mqtt.maxPacketBytes = limitBytes.mqttPacket
    if (limitBytes.amqpBody !== undefined) c.amqp.maxMessageBytes = limitBytes.amqpBody
  })
}

/** Dead-lettered messages, read (and acked) from the edge's bridge-dead/cloud. */
async function deadLetters(edge: TestBroker, count: number): Promise<GetMessage[]> {
  const res = await adminFetch(`${edge.adminUrl}/api/queues/%2F/${encodeURIComponent('bridge-dead/cloud')}`)
  assert.equal(res.status, 200, 'bridge-dead/cloud is in /api/queues')
  const conn = await amqpConnect(edge.amqpUrl)
  try {
    const ch = await channel(conn)
    const out: GetMessage[] = []
    await eventually(`${count} dead-lettered messages`, async () => {
      const m = await ch.get('bridge-dead/cloud', { noAck: true })
      if (m !== false) out.push(m)
      return out.length >= count
    })
    assert.equal(await ch.get('bridge-dead/cloud', { noAck: true }), false, `no more than ${count} dead-lettered`)
    return out
  } finally {
    await closeQuietly(conn)
  }
}

async function publishAmqp(edge: TestBroker, routingKey: string, body: Buffer, headers: Record<string, unknown> = {}): Promise<void> {
  let conn: ChannelModel | undefined
  try {
    conn = await amqpConnect(edge.amqpUrl)
    const ch = await conn.createConfirmChannel()
    ch.publish('amq.topic', routingKey, body, { persistent: true, headers })
    await ch.waitForConfirms()
  } finally {
    await closeQuietly(conn)
  }
}

test('MQTT 5 remote: a PUBACK 0x99 and a message over its Maximum Packet Size are dead-lettered, the rest arrive in order', { timeout: 60_000 }, async t => {
  const cloud = await startCloud({ mqttPacket: LIMIT_BYTES })
  t.after(() => cloud.close()) // here, not in the finally: an edge start that fails leaves nothing running
  const edge = await startEdge([bridgeTo(cloud.mqttUrl)])
  let inbox: RemoteInbox | undefined
  let pub: MqttClient | undefined
  try {
    await waitForBridge(edge, 'connected', s => s.state === 'connected')
    inbox = await mqttInbox(cloud.mqttUrl, 'up/#', 'cloud-dead-letter', 5)
    pub = await connect(edge.mqttUrl, { clientId: 'dead-letter-publisher', protocolVersion: 5 })
    const before = await bridgeStatus(edge)
    await publishNumbered(pub, 5)
    // Its format indicator says UTF-8, its payload is not: the remote Wharf refuses it (§3.3.2.3.2).
    await publishAmqp(edge, 'up.bad-format', Buffer.from([0xff, 0xfe, 0xfd]), { 'x-mqtt-payload-format-indicator': 1 })
    await pub.publishAsync('up/too-big', BIG_BODY, { qos: 1 })
    await publishNumbered(pub, 5, 'up/seq', 5)

    const s = await waitForBridge(edge, 'refused messages dead-lettered, the rest confirmed', s => s.deadLettered >= 2 && s.backlog.messages === 0)
    assert.equal(s.state, 'connected')
    assert.equal(s.reconnects, before.reconnects, 'the link was never given up')
    assert.equal(s.deadLetterQueue, 'bridge-dead/cloud')
    await eventually(`10 messages at the remote (${inbox.messages.length})`, () => inbox !== undefined && inbox.messages.length >= 10)
    const report = checkArrivals(
      inbox.messages,
      Array.from({ length: 10 }, (_, i) => i),
      'after the refusals'
    )
    assert.equal(report.duplicates, 0)

    const dead = await deadLetters(edge, 2)
    const byTopic = new Map(dead.map(m => [m.fields.routingKey, m]))
    const badFormat = byTopic.get('up.bad-format')
    const tooBig = byTopic.get('up.too-big')
    assert.ok(badFormat !== undefined && tooBig !== undefined, `dead-lettered: ${[...byTopic.keys()].join(', ')}`)
    assert.deepEqual(badFormat.content, Buffer.from([0xff, 0xfe, 0xfd]))
    assert.match(String(badFormat.properties.headers?.['x-wharf-refusal']), /0x99 Payload format invalid/)
    assert.equal(badFormat.properties.headers?.['x-first-death-queue'], 'bridge/cloud')
    assert.equal(badFormat.properties.headers?.['x-first-death-reason'], 'rejected')
    assert.equal(tooBig.content.length, BIG_BODY.length)
    assert.match(String(tooBig.properties.headers?.['x-wharf-refusal']), new RegExp(`Maximum Packet Size ${LIMIT_BYTES}`))
    const warned = edge.logs.filter(l => String(l.msg).includes('moved to the dead-letter queue'))
    assert.ok(warned.length >= 1 && warned.length <= 2, `logged once per interval: ${warned.length}`)
  } finally {
    await end(pub)
    await inbox?.close()
    await edge.close()
  }
})

test('AMQP remote: a body over its max message size is dead-lettered once the refusal named the size, the rest arrive in order', {
  timeout: 60_000
}, async t => {
  const cloud = await startCloud({ amqpBody: LIMIT_BYTES })
  t.after(() => cloud.close())
  const edge = await startEdge([bridgeTo(cloud.amqpUrl)])
  let inbox: RemoteInbox | undefined
  let pub: MqttClient | undefined
  try {
    await waitForBridge(edge, 'connected', s => s.state === 'connected')
    inbox = await amqpInbox(cloud.amqpUrl, 'dead-letter-inbox', ['up.#'])
    pub = await connect(edge.mqttUrl, { clientId: 'dead-letter-publisher', protocolVersion: 5 })
    await publishNumbered(pub, 5)
    await pub.publishAsync('up/too-big', BIG_BODY, { qos: 1 })
    await publishNumbered(pub, 5, 'up/seq', 5)

    const s = await waitForBridge(edge, 'the large message dead-lettered, the rest confirmed', s => s.deadLettered >= 1 && s.backlog.messages === 0, 20_000)
    assert.equal(s.state, 'connected', 'the bridge goes on instead of staying in error')
    assert.equal(s.deadLettered, 1)
    await eventually(`10 messages at the remote (${inbox.messages.length})`, () => inbox !== undefined && new Set(inbox.bodies()).size >= 10)
    // The channel closed under the messages sent after the large one: those may come twice, as counted.
    const report = checkArrivals(
      inbox.messages,
      Array.from({ length: 10 }, (_, i) => i),
      'after the refusal'
    )
    assert.ok(report.duplicates <= s.redelivered, `${report.duplicates} repeats, ${s.redelivered} counted`)

    const [dead] = await deadLetters(edge, 1)
    assert.equal(dead?.fields.routingKey, 'up.too-big')
    assert.match(String(dead?.properties.headers?.['x-wharf-refusal']), new RegExp(`larger than the remote's max size ${LIMIT_BYTES}`))
  } finally {
    await end(pub)
    await inbox?.close()
    await edge.close()
  }
})
