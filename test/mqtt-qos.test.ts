// QoS 0/1/2 in both directions, over TCP and over WebSocket, with real mqtt.js clients.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'

describe('MQTT QoS over TCP and WebSocket', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker()
  })
  after(async () => {
    await broker.close()
  })

  for (const transport of ['tcp', 'ws'] as const) {
    for (const qos of [0, 1, 2] as const) {
      test(`${transport}: QoS ${qos} publish reaches a QoS ${qos} subscriber in order`, async () => {
        const url = transport === 'tcp' ? broker.mqttUrl : broker.wsUrl
        const sub = await connect(url, { clientId: `sub-${transport}-${qos}` })
        const pub = await connect(url, { clientId: `pub-${transport}-${qos}` })
        try {
          const got = collector(sub)
          await sub.subscribeAsync(`qos/${transport}/${qos}/#`, { qos })
          for (let i = 0; i < 20; i++) await pub.publishAsync(`qos/${transport}/${qos}/x`, `m${i}`, { qos })
          const msgs = await got.waitFor(20)
          assert.deepEqual(
            msgs.map(m => m.payload),
            Array.from({ length: 20 }, (_, i) => `m${i}`)
          )
          assert.ok(msgs.every(m => m.qos === qos && m.topic === `qos/${transport}/${qos}/x`))
        } finally {
          await end(sub, pub)
        }
      })
    }
  }

  test('delivery uses min(subscription QoS, message QoS)', async () => {
    const sub = await connect(broker.mqttUrl, { clientId: 'sub-min' })
    const pub = await connect(broker.mqttUrl, { clientId: 'pub-min' })
    try {
      const got = collector(sub)
      await sub.subscribeAsync('min/low', { qos: 0 })
      await sub.subscribeAsync('min/high', { qos: 2 })
      await pub.publishAsync('min/low', 'a', { qos: 2 })
      await pub.publishAsync('min/high', 'b', { qos: 1 })
      const msgs = await got.waitFor(2)
      assert.equal(msgs.find(m => m.topic === 'min/low')?.qos, 0)
      assert.equal(msgs.find(m => m.topic === 'min/high')?.qos, 1)
    } finally {
      await end(sub, pub)
    }
  })

  test('a TCP publisher reaches a WebSocket subscriber and back', async () => {
    const ws = await connect(broker.wsUrl, { clientId: 'ws-side' })
    const tcp = await connect(broker.mqttUrl, { clientId: 'tcp-side' })
    try {
      const wsGot = collector(ws)
      const tcpGot = collector(tcp)
      await ws.subscribeAsync('cross/to-ws', { qos: 1 })
      await tcp.subscribeAsync('cross/to-tcp', { qos: 1 })
      await tcp.publishAsync('cross/to-ws', 'hello browser', { qos: 1 })
      await ws.publishAsync('cross/to-tcp', 'hello device', { qos: 1 })
      assert.equal((await wsGot.waitFor(1))[0]?.payload, 'hello browser')
      assert.equal((await tcpGot.waitFor(1))[0]?.payload, 'hello device')
    } finally {
      await end(ws, tcp)
    }
  })

  test('wildcards + and # match as MQTT defines', async () => {
    const sub = await connect(broker.mqttUrl, { clientId: 'sub-wild' })
    const pub = await connect(broker.mqttUrl, { clientId: 'pub-wild' })
    try {
      const got = collector(sub)
      await sub.subscribeAsync(['w/+/temp', 'w/b/#'], { qos: 1 })
      for (const t of ['w/a/temp', 'w/a/b/temp', 'w/b', 'w/b/c/d', 'x/a/temp']) await pub.publishAsync(t, t, { qos: 1 })
      await pub.publishAsync('w/end/temp', 'end', { qos: 1 })
      const msgs = await got.waitFor(4)
      assert.deepEqual(msgs.map(m => m.topic).sort(), ['w/a/temp', 'w/b', 'w/b/c/d', 'w/end/temp'])
    } finally {
      await end(sub, pub)
    }
  })
})
