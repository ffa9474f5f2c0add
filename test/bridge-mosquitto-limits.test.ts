// A Mosquitto remote (MQTT 5) that limits what it takes in its CONNACK: Maximum QoS (max_qos) and
// Retain Available (retain_available false). Before, the bridge published above them, Mosquitto
// disconnected it (0x9B QoS not supported, 0x9A Retain not supported) and the same message went
// again at every reconnect: nothing got past it. Now the uplink sends within them, says so once
// per connect and in /api/bridges, and a remote that could confirm nothing (Maximum QoS 0) leaves
// the bridge in state error with the backlog kept.
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
