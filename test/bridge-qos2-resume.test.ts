// A bridge at QoS 2 to Mosquitto (MQTT 5, persistent session) whose link is lost while the remote
// holds its PUBLISHes between PUBREC and PUBREL (a proxy drops the PUBRECs, then cuts the link).
// The next link resumed the session and sent those messages again under new packet ids, never the
// PUBRELs: the old ids stayed taken at the remote for the session's life, and a later PUBLISH under
// one of them is a resend there, not routed [MQTT-4.4.0-1] [MQTT-4.3.3-10]. Now the new link sends
// them again under their original ids with DUP (the ids their queue entries' seqs name): the remote
// answers PUBREC, the bridge PUBREL, the remote PUBCOMP 0x00, and every message arrives once.
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
import { startTestBroker, type TestBroker } from './support/test-broker.ts'

test('QoS 2 messages the remote holds when the link is lost are sent again under their packet ids with DUP, each once, none lost', {
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
    const sentBefore = proxy.publishes.length
    const s = await waitForBridge(
      edge,
      'connected again, backlog sent',
      s => s.reconnects > first.reconnects && s.state === 'connected' && s.backlog.messages === 0
    )
    assert.deepEqual(
      proxy.publishes.slice(sentBefore, sentBefore + held.length),
      held.map(packetId => ({ packetId, dup: true })),
      'each held message sent again under its original packet id, with DUP'
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
    assert.equal(report.duplicates, 0, `each message once (${inbox.bodies().join(',')}; ${done.redelivered} sent again, ${s.redelivered} at reconnect)`)
  } finally {
    await end(pub)
    await inbox?.close()
    await edge?.close()
  }
})

// The other side of it: the remote answered PUBREC and the bridge's PUBRELs were lost with the link.
// The next link sends only the PUBRELs of those messages, never their PUBLISHes again [MQTT-4.3.3-6];
// each PUBCOMP confirms its message. A Wharf remote routes at PUBLISH: a resend would be a repeat.
test('QoS 2 messages the remote answered with PUBREC when the link is lost get their PUBREL only from the next link, each once', {
  timeout: 60_000
}, async t => {
  const cloud = await startTestBroker(c => {
    c.log.level = 'warn'
  })
  t.after(() => cloud.close())
  const proxy = await startPubrecDroppingProxy(Number(new URL(cloud.mqttUrl).port))
  t.after(() => proxy.close())
  let edge: TestBroker | undefined
  let inbox: RemoteInbox | undefined
  let pub: MqttClient | undefined
  try {
    const mqtt = { qos: 2, clientId: null, cleanSession: false, sessionExpirySeconds: 3600, protocolVersion: 5 } as const
    edge = await startEdge([bridgeTo(`mqtt://127.0.0.1:${proxy.port}`, { mqtt, in: { topics: [], localPrefix: '', remotePrefix: '' } })])
    const first = await waitForBridge(edge, 'connected', s => s.state === 'connected')
    inbox = await mqttInbox(cloud.mqttUrl, 'up/#', 'pubrel-only-inbox', 5)
    pub = await connect(edge.mqttUrl, { clientId: 'pubrel-only-publisher', protocolVersion: 5 })
    proxy.dropPubrels(true)
    await publishNumbered(pub, 5)
    await eventually(`5 PUBRELs dropped (${proxy.droppedPubrels.length})`, () => proxy.droppedPubrels.length >= 5)
    const held = [...proxy.droppedPubrels]
    proxy.dropPubrels(false)
    const sentBefore = proxy.publishes.length
    proxy.cut()
    await waitForBridge(edge, 'connected again, backlog sent', s => s.reconnects > first.reconnects && s.state === 'connected' && s.backlog.messages === 0)
    const again = proxy.publishes.slice(sentBefore).filter(p => held.includes(p.packetId))
    assert.deepEqual(again, [], 'no PUBLISH again under a PUBREC-ed id')
    assert.deepEqual(
      held.map(id => proxy.pubcomps.get(id)),
      held.map(() => 0),
      'a PUBREL for each, PUBCOMP 0x00'
    )
    await publishNumbered(pub, 5, 'up/seq', 5)
    await waitForBridge(edge, 'all confirmed', s => s.confirmed >= 10 && s.backlog.messages === 0)
    await eventually(`10 at the remote (${inbox.bodies().join(',')})`, () => inbox !== undefined && inbox.messages.length >= 10)
    const report = checkArrivals(
      inbox.messages,
      Array.from({ length: 10 }, (_, i) => i),
      'after the lost PUBRELs'
    )
    assert.equal(report.duplicates, 0, `each message once (${inbox.bodies().join(',')})`)
  } finally {
    await end(pub)
    await inbox?.close()
    await edge?.close()
  }
})
