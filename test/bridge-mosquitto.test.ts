// Issue 13: a bridge whose remote is Debian's Mosquitto over MQTT 5 (started by this file, with
// persistence): numbered messages up in order (within Mosquitto's Receive Maximum), a command down
// (also to an edge that was restarted), MQTT 5 properties and retain both ways, no echo with in and
// out on the same topics, and Mosquitto stopped mid-stream and started again.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { TestBroker } from './support/test-broker.ts'
import { collector, connect, end, settled } from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'
import { mqttInbox, type RemoteInbox } from './support/bridge-inboxes.ts'
import { bridgeTo, downlinkCommand, outageMs, remoteOutage, startEdge, uplinkInOrder, waitForBridge } from './support/bridge-scenarios.ts'
import { mosquittoUnavailable, startMosquitto, type MosquittoNode } from './support/mosquitto.ts'

describe('bridge to Mosquitto over MQTT 5', { skip: mosquittoUnavailable(), timeout: 240_000 }, () => {
  let mosquitto: MosquittoNode
  let edge: TestBroker
  const inboxes: RemoteInbox[] = []

  before(async () => {
    mosquitto = await startMosquitto()
    edge = await startEdge([
      bridgeTo(mosquitto.url, {
        in: { topics: ['cmd/#', 'both/#'], localPrefix: '', remotePrefix: '' },
        out: { topics: ['up/#', 'both/#'], localPrefix: '', remotePrefix: '' }
      })
    ])
    await waitForBridge(edge, 'connected', s => s.state === 'connected')
  })
  after(async () => {
    for (const i of inboxes) await i.close()
    await edge?.close()
    await mosquitto?.stop()
  })

  test('1000 QoS 1 messages go up in publish order, once each', async () => {
    const inbox = await mqttInbox(mosquitto.url, 'up/seq', 'mosq-order', 5)
    inboxes.push(inbox)
    await uplinkInOrder(edge, inbox, 1000)
    await inbox.close()
  })

  test('a command published at Mosquitto reaches a device on the edge', async () => {
    await downlinkCommand(edge, async (topic, body) => {
      const c = await connect(mosquitto.url, { clientId: 'mosq-commander', protocolVersion: 5 })
      await c.publishAsync(topic, body, { qos: 1 })
      await end(c)
    })
  })

  test('MQTT 5 properties and retain survive the hop both ways', async () => {
    const props = {
      contentType: 'application/cbor',
      correlationData: Buffer.from([1, 2, 3]),
      responseTopic: 'reply/gw',
      messageExpiryInterval: 200,
      payloadFormatIndicator: false,
      userProperties: { unit: 'C', tag: ['x', 'y'] }
    }
    const sub = await connect(mosquitto.url, { clientId: 'mosq-props', protocolVersion: 5 })
    const up = collector(sub)
    await sub.subscribeAsync('up/props', { qos: 1 })
    const dev = await connect(edge.mqttUrl, { clientId: 'edge-props', protocolVersion: 5 })
    const down = collector(dev)
    await dev.subscribeAsync('cmd/props', { qos: 1 })
    await dev.publishAsync('up/props', 'u', { qos: 1, properties: props })
    await sub.publishAsync('cmd/props', 'd', { qos: 1, properties: props })
    for (const [side, inbox] of [
      ['at Mosquitto', up],
      ['on the edge', down]
    ] as const) {
      const [m] = await inbox.waitFor(1, 10_000).catch(err => {
        throw new Error(`${side}: ${(err as Error).message}`)
      })
      const p = m?.properties as Record<string, unknown>
      assert.equal(p.contentType, 'application/cbor')
      assert.deepEqual(p.correlationData, Buffer.from([1, 2, 3]))
      assert.equal(p.responseTopic, 'reply/gw')
      assert.ok((p.messageExpiryInterval as number) <= 200 && (p.messageExpiryInterval as number) > 190)
      const user = { ...(p.userProperties as Record<string, unknown>) }
      assert.equal(user.unit, 'C')
      assert.deepEqual(user.tag, ['x', 'y'])
    }
    // retained both ways: a late subscriber on each side gets the other side's retained message.
    // The wait counts from here: earlier tests downlinked too, so an absolute count was already met
    // and the late subscriber could get the retained command live (retain flag cleared) instead.
    const { downlinked } = await waitForBridge(edge, 'the props hop settled', s => s.backlog.messages === 0)
    await dev.publishAsync('up/status/gw-1', 'online', { qos: 1, retain: true })
    await sub.publishAsync('cmd/config/gw-1', 'v7', { qos: 1, retain: true })
    await waitForBridge(edge, 'both retained messages across', s => s.backlog.messages === 0 && s.downlinked >= downlinked + 1)
    const lateRemote = await connect(mosquitto.url, { clientId: 'mosq-late', protocolVersion: 5 })
    const lateEdge = await connect(edge.mqttUrl, { clientId: 'edge-late', protocolVersion: 5 })
    const r1 = collector(lateRemote)
    const r2 = collector(lateEdge)
    await lateRemote.subscribeAsync('up/status/#', { qos: 1 })
    await lateEdge.subscribeAsync('cmd/config/#', { qos: 1 })
    const [a] = await r1.waitFor(1, 10_000).catch(err => {
      throw new Error(`retained at Mosquitto: ${(err as Error).message}`)
    })
    const [b] = await r2.waitFor(1, 10_000).catch(err => {
      throw new Error(`retained on the edge: ${(err as Error).message}`)
    })
    assert.deepEqual([a?.topic, a?.payload, a?.retain], ['up/status/gw-1', 'online', true])
    assert.deepEqual([b?.topic, b?.payload, b?.retain], ['cmd/config/gw-1', 'v7', true])
    await end(sub, dev, lateRemote, lateEdge)
  })

  test('with in and out on the same topics, each message arrives once on each side, and goes no further', async () => {
    const remote = await connect(mosquitto.url, { clientId: 'mosq-both', protocolVersion: 5 })
    const local = await connect(edge.mqttUrl, { clientId: 'edge-both', protocolVersion: 5 })
    const atRemote = collector(remote)
    const atEdge = collector(local)
    await remote.subscribeAsync('both/#', { qos: 1 })
    await local.subscribeAsync('both/#', { qos: 1 })
    const before = await waitForBridge(edge, 'idle', s => s.backlog.messages === 0)
    await local.publishAsync('both/from-edge', 'e', { qos: 1 })
    await remote.publishAsync('both/from-remote', 'r', { qos: 1 })
    await eventually('both messages on both sides', () => atRemote.messages.length >= 2 && atEdge.messages.length >= 2, 10_000)
    await waitForBridge(edge, 'settled', s => s.backlog.messages === 0 && s.downlinked >= before.downlinked + 1)
    await settled(remote)
    await settled(local)
    assert.deepEqual(atRemote.messages.map(m => m.payload).sort(), ['e', 'r'])
    assert.deepEqual(atEdge.messages.map(m => m.payload).sort(), ['e', 'r'])
    const after = await waitForBridge(edge, 'idle', s => s.backlog.messages === 0)
    assert.equal(after.forwarded - before.forwarded, 1, "only the edge's own message went up")
    assert.equal(after.loopsSkipped - before.loopsSkipped, 1, "the remote's message, come down, was not sent back")
    await end(remote, local)
  })

  test('a command sent while the edge is down reaches its device after the edge restarts', async () => {
    const options = { clientId: 'device-restart', protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 600 } }
    const device = await connect(edge.mqttUrl, options)
    await device.subscribeAsync('cmd/device-restart/#', { qos: 1 })
    await end(device)
    const dir = edge.dataDir
    const config = bridgeTo(mosquitto.url, {
      in: { topics: ['cmd/#', 'both/#'], localPrefix: '', remotePrefix: '' },
      out: { topics: ['up/#', 'both/#'], localPrefix: '', remotePrefix: '' }
    })
    await edge.stop()
    const c = await connect(mosquitto.url, { clientId: 'mosq-commander-2', protocolVersion: 5 })
    await c.publishAsync('cmd/device-restart/update', 'v2', { qos: 1 })
    await end(c)
    edge = await startEdge([config], dir)
    const again = await connect(edge.mqttUrl, options)
    const [m] = await collector(again).waitFor(1, 10_000)
    assert.deepEqual([m?.topic, m?.payload], ['cmd/device-restart/update', 'v2'])
    await end(again)
  })

  test(`Mosquitto stopped for ${outageMs} ms mid-stream: everything acknowledged arrives, in order`, async () => {
    const inbox = await mqttInbox(mosquitto.url, 'up/seq', 'mosq-outage', 5)
    inboxes.push(inbox)
    const r = await remoteOutage(edge, inbox, { outageMs, stop: () => mosquitto.stopNode(), start: () => mosquitto.startNode() })
    assert.ok(r.acked > 200)
  })
})
