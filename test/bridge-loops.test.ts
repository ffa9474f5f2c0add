// Issue 13: two Wharfs bridged both ways on the same topics deliver each message once on each side,
// and nothing goes round: with a bridge on each side (one over AMQP, the other over MQTT 5), and
// with one bridge whose in and out topics are the same.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { collector, connect, end, settled } from './support/mqtt-helpers.ts'
import { eventually, holdsFor } from './support/wait.ts'
import { bridgeStatus, bridgeTo, waitForBridge } from './support/bridge-scenarios.ts'
import type { BridgeStatus } from '../adapters/bridge/bridge-status.ts'
import { restartablePorts } from '../bench/brokers/free-port.ts'

async function subscribed(broker: TestBroker, clientId: string, filter: string): Promise<{ client: MqttClient; payloads: () => string[] }> {
  const client = await connect(broker.mqttUrl, { clientId, protocolVersion: 5 })
  const inbox = collector(client)
  await client.subscribeAsync(filter, { qos: 1 })
  return { client, payloads: () => inbox.messages.map(m => m.payload).sort() }
}

async function quiet(broker: TestBroker): Promise<BridgeStatus> {
  return await waitForBridge(broker, 'backlog empty', s => s.state === 'connected' && s.backlog.messages === 0)
}

test('a bridge on each side, same topics: each message once on each side, no ping-pong', { timeout: 60_000 }, async t => {
  const [bAmqpPort] = (await restartablePorts(1)) as [number]
  // A sends x/# to B over AMQP; B sends x/# to A over MQTT 5.
  const a = await startTestBroker(c => {
    c.log.level = 'info'
    c.bridges = [
      bridgeTo(`amqp://guest:guest@127.0.0.1:${bAmqpPort}`, {
        name: 'to-b',
        out: { topics: ['x/#'], localPrefix: '', remotePrefix: '' },
        in: { topics: [], localPrefix: '', remotePrefix: '' }
      })
    ]
  })
  t.after(() => a.close()) // here, not in the finally: a start of b that fails leaves nothing running
  const b = await startTestBroker(c => {
    c.log.level = 'info'
    c.amqp.port = bAmqpPort
    c.bridges = [
      bridgeTo(a.mqttUrl, { name: 'to-a', out: { topics: ['x/#'], localPrefix: '', remotePrefix: '' }, in: { topics: [], localPrefix: '', remotePrefix: '' } })
    ]
  })
  try {
    await waitForBridge(a, 'connected', s => s.state === 'connected', 10_000, 'to-b')
    await waitForBridge(b, 'connected', s => s.state === 'connected', 10_000, 'to-a')
    const onA = await subscribed(a, 'sub-a', 'x/#')
    const onB = await subscribed(b, 'sub-b', 'x/#')
    const pubA = await connect(a.mqttUrl, { clientId: 'pub-a', protocolVersion: 5 })
    const pubB = await connect(b.mqttUrl, { clientId: 'pub-b', protocolVersion: 5 })
    for (let i = 0; i < 20; i++) {
      await pubA.publishAsync('x/from-a', `a${i}`, { qos: 1 })
      await pubB.publishAsync('x/from-b', `b${i}`, { qos: 1 })
    }
    const all = [...Array.from({ length: 20 }, (_, i) => `a${i}`), ...Array.from({ length: 20 }, (_, i) => `b${i}`)].sort()
    await eventually('40 messages on each side', () => onA.payloads().length >= 40 && onB.payloads().length >= 40, 10_000)
    const sa = await waitForBridge(a, 'settled', s => s.backlog.messages === 0 && s.loopsSkipped >= 20, 10_000, 'to-b')
    const sb = await waitForBridge(b, 'settled', s => s.backlog.messages === 0 && s.loopsSkipped >= 20, 10_000, 'to-a')
    await holdsFor(
      'nothing more is forwarded',
      async () => {
        const [na, nb] = [await bridgeStatus(a, 'to-b'), await bridgeStatus(b, 'to-a')]
        return na.forwarded === 20 && nb.forwarded === 20
      },
      1000
    )
    await settled(onA.client)
    await settled(onB.client)
    assert.deepEqual(onA.payloads(), all)
    assert.deepEqual(onB.payloads(), all)
    assert.deepEqual([sa.forwarded, sa.loopsSkipped, sb.forwarded, sb.loopsSkipped], [20, 20, 20, 20])
    assert.equal(sa.remoteNodeId !== null && sb.remoteNodeId !== null && sa.remoteNodeId !== sb.remoteNodeId, true, "each side knows the other's node id")
    await end(onA.client, onB.client, pubA, pubB)
  } finally {
    await b.close()
  }
})

test('one bridge with in and out on the same topics: once on each side, its own messages not brought back', { timeout: 60_000 }, async t => {
  const cloud = await startTestBroker(c => {
    c.log.level = 'info'
  })
  t.after(() => cloud.close())
  const edge = await startTestBroker(c => {
    c.log.level = 'info'
    c.bridges = [
      bridgeTo(cloud.amqpUrl, { out: { topics: ['y/#'], localPrefix: '', remotePrefix: '' }, in: { topics: ['y/#'], localPrefix: '', remotePrefix: '' } })
    ]
  })
  try {
    await waitForBridge(edge, 'connected', s => s.state === 'connected')
    const onEdge = await subscribed(edge, 'sub-edge', 'y/#')
    const onCloud = await subscribed(cloud, 'sub-cloud', 'y/#')
    const pubEdge = await connect(edge.mqttUrl, { clientId: 'pub-edge', protocolVersion: 5 })
    const pubCloud = await connect(cloud.mqttUrl, { clientId: 'pub-cloud', protocolVersion: 5 })
    for (let i = 0; i < 10; i++) {
      await pubEdge.publishAsync('y/edge', `e${i}`, { qos: 1 })
      await pubCloud.publishAsync('y/cloud', `c${i}`, { qos: 1 })
    }
    const all = [...Array.from({ length: 10 }, (_, i) => `c${i}`), ...Array.from({ length: 10 }, (_, i) => `e${i}`)].sort()
    await eventually('20 messages on each side', () => onEdge.payloads().length >= 20 && onCloud.payloads().length >= 20, 10_000)
    const s = await waitForBridge(edge, 'settled', s => s.backlog.messages === 0 && s.echoesDropped >= 10 && s.loopsSkipped >= 10)
    await quiet(edge)
    await settled(onEdge.client)
    await settled(onCloud.client)
    assert.deepEqual(onEdge.payloads(), all)
    assert.deepEqual(onCloud.payloads(), all)
    assert.deepEqual([s.forwarded, s.downlinked, s.echoesDropped, s.loopsSkipped], [10, 10, 10, 10])
    await end(onEdge.client, onCloud.client, pubEdge, pubCloud)
  } finally {
    await edge.close()
  }
})
