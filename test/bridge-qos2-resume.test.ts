// A bridge at QoS 2 to Mosquitto (MQTT 5, persistent session) whose link is lost while the remote
// holds its PUBLISHes between PUBREC and PUBREL (a proxy drops the PUBRECs, then cuts the link).
// The next link resumed the session and sent those messages again under new packet ids, never the
// PUBRELs: the old ids stayed taken at the remote for the session's life, and a later PUBLISH under
// one of them is a resend there, not routed [MQTT-4.4.0-1] [MQTT-4.3.3-10]. Now the new link sends
// their PUBRELs first; the remote releases them (PUBCOMP 0x00), and every message arrives, the
// released ones once more than the bridge's own resend, counted as redelivered.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { connect, end } from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'
import { mqttInbox, type RemoteInbox } from './support/bridge-inboxes.ts'
import { checkArrivals } from './support/bridge-checks.ts'
import { bridgeTo, publishNumbered, startEdge, waitForBridge } from './support/bridge-scenarios.ts'
import { mosquittoUnavailable, startMosquitto } from './support/mosquitto.ts'
import { startPubrecDroppingProxy } from './support/pubrec-dropping-proxy.ts'
import type { TestBroker } from './support/test-broker.ts'

test('QoS 2 messages the remote holds when the link is lost are released by the next link (PUBREL first), none lost', {
  skip: mosquittoUnavailable(),
  timeout: 60_000
}, async t => {
  const mosquitto = await startMosquitto()
  t.after(() => mosquitto.stop())
  const proxy = await startPubrecDroppingProxy(Number(new URL(mosquitto.url).port))
  t.after(() => proxy.close())
  let edge: TestBroker | undefined
  let inbox: RemoteInbox | undefined
  let pub: MqttClient | undefined
  try {
    const mqtt = { qos: 2, clientId: null, cleanSession: false, sessionExpirySeconds: 3600, protocolVersion: 5 } as const
    edge = await startEdge([bridgeTo(`mqtt://127.0.0.1:${proxy.port}`, { mqtt })])
    const first = await waitForBridge(edge, 'connected', s => s.state === 'connected')
    inbox = await mqttInbox(mosquitto.url, 'up/#', 'qos2-inbox', 5)
    pub = await connect(edge.mqttUrl, { clientId: 'qos2-publisher', protocolVersion: 5 })
    proxy.dropPubrecs(true)
    await publishNumbered(pub, 5)
    await eventually(`5 PUBRECs dropped (${proxy.dropped.length})`, () => proxy.dropped.length >= 5)
    const held = [...proxy.dropped]
    proxy.dropPubrecs(false)
    proxy.cut()
    const s = await waitForBridge(
      edge,
      'connected again, backlog sent',
      s => s.reconnects > first.reconnects && s.state === 'connected' && s.backlog.messages === 0
    )
    assert.deepEqual(
      held.filter(id => !proxy.pubrels.includes(id)),
      [],
      'a PUBREL for each id the remote held'
    )
    assert.deepEqual(
      held.map(id => proxy.pubcomps.get(id)),
      held.map(() => 0),
      'the remote held each one (PUBCOMP 0x00, not 0x92)'
    )
    await publishNumbered(pub, 5, 'up/seq', 5)
    const done = await waitForBridge(edge, 'all confirmed', s => s.confirmed >= 10 && s.backlog.messages === 0)
    await eventually(`10 numbers at Mosquitto (${inbox.bodies().join(',')})`, () => inbox !== undefined && new Set(inbox.bodies()).size >= 10)
    const report = checkArrivals(
      inbox.messages,
      Array.from({ length: 10 }, (_, i) => i),
      'after the resumed session'
    )
    assert.ok(report.duplicates <= done.redelivered, `${report.duplicates} repeats, ${done.redelivered} counted as redelivered (${s.redelivered} at reconnect)`)
    assert.equal(edge.logs.filter(l => String(l.msg).startsWith('bridge: released the QoS 2 messages')).length, 1)
  } finally {
    await end(pub)
    await inbox?.close()
    await edge?.close()
  }
})
