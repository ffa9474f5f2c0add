// A Mosquitto remote (MQTT 5) with limits. In its CONNACK: Maximum QoS (max_qos) and Retain
// Available (retain_available false). Before, the bridge published above them, Mosquitto
// disconnected it (0x9B QoS not supported, 0x9A Retain not supported) and the same message went
// again at every reconnect: nothing got past it. Now the uplink sends within them, says so once
// per connect and in /api/bridges, and a remote that could confirm nothing (Maximum QoS 0) leaves
// the bridge in state error with the backlog kept. Not in its CONNACK: message_size_limit, which
// Mosquitto enforces with a PUBACK 0x95 that mqtt-packet cannot read; the message over it is
// dead-lettered, the rest go on.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { connect, end } from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'
import { mqttInbox, type RemoteInbox } from './support/bridge-inboxes.ts'
import { checkArrivals } from './support/bridge-checks.ts'
import { bridgeStatus, bridgeTo, publishNumbered, startEdge, waitForBridge } from './support/bridge-scenarios.ts'
import { mosquittoUnavailable, startMosquitto } from './support/mosquitto.ts'
import type { TestBroker } from './support/test-broker.ts'
import { adminFetch } from './support/admin-http.ts'

const skip = mosquittoUnavailable()
const mqtt5Qos2 = { qos: 2, clientId: null, cleanSession: false, sessionExpirySeconds: 3600, protocolVersion: 5 } as const

test('Maximum QoS 1 and no retain at the remote: everything goes up at QoS 1, the retained one without the flag, in order', {
  skip,
  timeout: 60_000
}, async t => {
  const mosquitto = await startMosquitto(['max_qos 1', 'retain_available false'])
  t.after(() => mosquitto.stop())
  let edge: TestBroker | undefined
  let inbox: RemoteInbox | undefined
  let pub: MqttClient | undefined
  try {
    edge = await startEdge([bridgeTo(mosquitto.url, { mqtt: mqtt5Qos2 })])
    const up = await waitForBridge(edge, 'connected', s => s.state === 'connected')
    assert.deepEqual(up.remoteLimits, [
      "the remote's Maximum QoS is 1 (CONNACK): messages go up at QoS 1, not mqtt.qos 2",
      'the remote takes no retained messages (CONNACK Retain Available 0): retained messages go up without the retain flag'
    ])
    inbox = await mqttInbox(mosquitto.url, 'up/#', 'limits-inbox', 5)
    pub = await connect(edge.mqttUrl, { clientId: 'limits-publisher', protocolVersion: 5 })
    await publishNumbered(pub, 5)
    await pub.publishAsync('up/seq', '5', { qos: 2, retain: true })
    await publishNumbered(pub, 5, 'up/seq', 6)
    const s = await waitForBridge(edge, 'all 11 confirmed', s => s.confirmed >= 11 && s.backlog.messages === 0)
    assert.equal(s.state, 'connected')
    assert.equal(s.reconnects, 0, `the remote never disconnected the bridge (last error: ${s.lastError})`)
    await eventually(`11 messages at Mosquitto (${inbox.messages.length})`, () => inbox !== undefined && inbox.messages.length >= 11)
    assert.equal(
      checkArrivals(
        inbox.messages,
        Array.from({ length: 11 }, (_, i) => i),
        'within the limits'
      ).duplicates,
      0
    )
    const warned = edge.logs.filter(l => l.msg === 'bridge: the remote limits what goes up')
    assert.equal(warned.length, 1, 'logged once, at connect')
  } finally {
    await end(pub)
    await inbox?.close()
    await edge?.close()
  }
})

test('Maximum QoS 0 at the remote: state error naming it, nothing sent unconfirmed, the backlog kept', { skip, timeout: 60_000 }, async t => {
  const mosquitto = await startMosquitto(['max_qos 0'])
  t.after(() => mosquitto.stop())
  let edge: TestBroker | undefined
  let pub: MqttClient | undefined
  try {
    edge = await startEdge([bridgeTo(mosquitto.url)])
    pub = await connect(edge.mqttUrl, { clientId: 'qos0-publisher', protocolVersion: 5 })
    await publishNumbered(pub, 3)
    const s = await waitForBridge(edge, 'error', s => s.state === 'error' && s.backlog.messages === 3)
    assert.match(s.lastError ?? '', /connect: the remote's Maximum QoS is 0 \(CONNACK\).*set mqtt\.qos: 0/)
    assert.equal(s.forwarded, 0)
    assert.equal((await bridgeStatus(edge)).confirmed, 0)
  } finally {
    await end(pub)
    await edge?.close()
  }
})

test('a message over message_size_limit (PUBACK 0x95) is dead-lettered; the link stays up, the rest arrive in order', { skip, timeout: 60_000 }, async t => {
  const mosquitto = await startMosquitto(['message_size_limit 1000'])
  t.after(() => mosquitto.stop())
  let edge: TestBroker | undefined
  let inbox: RemoteInbox | undefined
  let pub: MqttClient | undefined
  try {
    edge = await startEdge([bridgeTo(mosquitto.url)])
    await waitForBridge(edge, 'connected', s => s.state === 'connected')
    inbox = await mqttInbox(mosquitto.url, 'up/#', 'size-inbox', 5)
    pub = await connect(edge.mqttUrl, { clientId: 'size-publisher', protocolVersion: 5 })
    await publishNumbered(pub, 5)
    await pub.publishAsync('up/too-big', Buffer.alloc(5000, 'x'), { qos: 1 })
    await publishNumbered(pub, 5, 'up/seq', 5)
    const s = await waitForBridge(
      edge,
      'the big one dead-lettered, the rest confirmed',
      s => s.deadLettered === 1 && s.confirmed >= 10 && s.backlog.messages === 0
    )
    assert.equal(s.state, 'connected')
    assert.equal(s.reconnects, 0)
    await eventually(`10 messages at Mosquitto (${inbox.messages.length})`, () => inbox !== undefined && inbox.messages.length >= 10)
    assert.equal(
      checkArrivals(
        inbox.messages,
        Array.from({ length: 10 }, (_, i) => i),
        'around the big one'
      ).duplicates,
      0
    )
    const res = await adminFetch(`${edge.adminUrl}/api/queues/%2F/${encodeURIComponent('bridge-dead/cloud')}/get`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 5, ackmode: 'ack_requeue_false', encoding: 'auto', truncate: 10 })
    })
    const dead = (await res.json()) as Array<{ routing_key: string; payload_bytes: number; properties: { headers: Record<string, unknown> } }>
    assert.deepEqual(
      dead.map(m => [m.routing_key, m.payload_bytes]),
      [['up.too-big', 5000]]
    )
    assert.match(String(dead[0]?.properties.headers['x-wharf-refusal']), /reason 0x95 Packet too large/)
  } finally {
    await end(pub)
    await inbox?.close()
    await edge?.close()
  }
})
