// The bridge's forwarded count is what went to the remote. A message the link refuses before sending
// (a PUBLISH over an MQTT 5 remote's Maximum Packet Size [MQTT-3.1.2-24]) is dead-lettered and counted
// there, not forwarded: with two small and two such messages, /api/bridges said forwarded 4 while
// Mosquitto got 2. Mosquitto (max_packet_size, told in its CONNACK) and mqtt.js over real sockets.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { connect, end } from './support/mqtt-helpers.ts'
import { eventually, holdsFor } from './support/wait.ts'
import { mqttInbox, type RemoteInbox } from './support/bridge-inboxes.ts'
import { bridgeTo, publishNumbered, startEdge, waitForBridge } from './support/bridge-scenarios.ts'
import { mosquittoUnavailable, startMosquitto } from './support/mosquitto.ts'
import type { TestBroker } from './support/test-broker.ts'
import { adminFetch } from './support/admin-http.ts'

const skip = mosquittoUnavailable()

test("messages over the remote's Maximum Packet Size are dead-lettered, not counted forwarded", { skip, timeout: 60_000 }, async t => {
  const mosquitto = await startMosquitto(['max_packet_size 1000'])
  t.after(() => mosquitto.stop())
  let edge: TestBroker | undefined
  let inbox: RemoteInbox | undefined
  let pub: MqttClient | undefined
  try {
    edge = await startEdge([bridgeTo(mosquitto.url, { mqtt: { qos: 1, clientId: null, cleanSession: false, sessionExpirySeconds: 3600, protocolVersion: 5 } })])
    await waitForBridge(edge, 'connected', s => s.state === 'connected')
    inbox = await mqttInbox(mosquitto.url, 'up/#', 'forwarded-inbox', 5)
    pub = await connect(edge.mqttUrl, { clientId: 'forwarded-publisher', protocolVersion: 5 })
    await publishNumbered(pub, 1)
    await pub.publishAsync('up/big', Buffer.alloc(3000, 'x'), { qos: 1 })
    await publishNumbered(pub, 1, 'up/seq', 1)
    await pub.publishAsync('up/big', Buffer.alloc(3000, 'y'), { qos: 1 })
    const s = await waitForBridge(edge, 'two confirmed, two dead-lettered', s => s.confirmed === 2 && s.deadLettered === 2 && s.backlog.messages === 0)
    await eventually(`2 messages at Mosquitto (${inbox.messages.length})`, () => inbox !== undefined && inbox.messages.length >= 2)
    await holdsFor('no more at Mosquitto', () => inbox?.messages.length === 2, 300)
    assert.equal(s.forwarded, 2, 'forwarded: what went to the remote')
    assert.equal(s.redelivered, 0)
    assert.equal(s.state, 'connected')
    const text = await (await adminFetch(`${edge.adminUrl}/metrics`)).text()
    assert.match(text, /^wharf_bridge_forwarded_total\{bridge="cloud"\} 2$/m)
    assert.match(text, /^wharf_bridge_dead_lettered_total\{bridge="cloud"\} 2$/m)
  } finally {
    await end(pub)
    await inbox?.close()
    await edge?.close()
  }
})
