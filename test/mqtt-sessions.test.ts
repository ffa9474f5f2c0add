// Persistent sessions (clean=false): offline queues in order, subscriptions kept, also across restart.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestBroker } from './support/test-broker.ts'
import mqttPacket from 'mqtt-packet'
import { connect, collector, end, eventually, sessionPresent, settled } from './support/mqtt-helpers.ts'
import { rawConnect } from './support/raw-mqtt.ts'

describe('persistent sessions', { timeout: 60_000 }, () => {
  test('an offline persistent session receives every QoS 1/2 message in order after reconnect', async () => {
    const broker = await startTestBroker()
    try {
      const sub = await connect(broker.mqttUrl, { clientId: 'sess-1', clean: false })
      await sub.subscribeAsync('sess/#', { qos: 2 })
      await end(sub)
      const pub = await connect(broker.mqttUrl, { clientId: 'sess-pub' })
      for (let i = 0; i < 100; i++) await pub.publishAsync('sess/data', `m${i}`, { qos: i % 2 === 0 ? 1 : 2 })
      await pub.publishAsync('sess/data', 'qos0-dropped-for-offline', { qos: 0 })
      await end(pub)
      const back = await connect(broker.mqttUrl, { clientId: 'sess-1', clean: false })
      const got = collector(back)
      await got.waitFor(100)
      await settled(back) // the QoS 0 publish, if it had reached the session, would be here by now
      // mqtt.js hands a QoS 2 message to the app only at PUBREL, so the two levels interleave on
      // the client side; the broker's order shows within each level.
      const ofQos = (qos: number): string[] => got.messages.filter(m => m.qos === qos).map(m => m.payload)
      assert.deepEqual(
        ofQos(1),
        Array.from({ length: 50 }, (_, i) => `m${2 * i}`)
      )
      assert.deepEqual(
        ofQos(2),
        Array.from({ length: 50 }, (_, i) => `m${2 * i + 1}`)
      )
      assert.equal(got.messages.length, 100)
      await end(back)
    } finally {
      await broker.close()
    }
  })

  test('subscriptions and queued messages survive a broker restart', async t => {
    const first = await startTestBroker()
    t.after(() => first.close()) // a no-op once stopped below; else a failure before that leaves it running
    const sub = await connect(first.mqttUrl, { clientId: 'sess-restart', clean: false })
    await sub.subscribeAsync('kept/#', { qos: 1 })
    await end(sub)
    const pub = await connect(first.mqttUrl, { clientId: 'sess-restart-pub' })
    for (let i = 0; i < 10; i++) await pub.publishAsync('kept/x', `before-${i}`, { qos: 1 })
    await end(pub)
    await first.stop()

    const second = await startTestBroker(() => {}, first.dataDir)
    try {
      const pub2 = await connect(second.mqttUrl, { clientId: 'sess-restart-pub2' })
      await pub2.publishAsync('kept/x', 'after', { qos: 1 })
      await end(pub2)
      const back = await connect(second.mqttUrl, { clientId: 'sess-restart', clean: false })
      assert.equal(sessionPresent(back), true, 'the session survived the restart [MQTT-3.2.2-2]')
      const got = collector(back)
      await got.waitFor(11)
      assert.deepEqual(
        got.messages.map(m => m.payload),
        [...Array.from({ length: 10 }, (_, i) => `before-${i}`), 'after']
      )
      await end(back)
    } finally {
      await second.close()
    }
  })

  test('a clean session keeps nothing after disconnect', async () => {
    const broker = await startTestBroker()
    try {
      const sub = await connect(broker.mqttUrl, { clientId: 'clean-1', clean: true })
      await sub.subscribeAsync('gone/#', { qos: 1 })
      await end(sub)
      const pub = await connect(broker.mqttUrl, { clientId: 'clean-pub' })
      await pub.publishAsync('gone/x', 'lost', { qos: 1 })
      await end(pub)
      const back = await connect(broker.mqttUrl, { clientId: 'clean-1', clean: false })
      assert.equal(sessionPresent(back), false, 'a clean session left nothing to resume')
      const got = collector(back)
      await settled(back)
      assert.equal(got.messages.length, 0)
      await end(back)
    } finally {
      await broker.close()
    }
  })

  test('unacknowledged QoS 1 deliveries are resent with their original packet ids after a reconnect and a restart [MQTT-4.4.0-1]', async () => {
    const first = await startTestBroker()
    // Connects as resend-1 (clean=false), subscribes or waits for `expected` deliveries, and drops the connection without acking.
    const ids = async (port: number, subscribe: boolean, expected: number): Promise<Array<{ id: number; dup: boolean; payload: string }>> => {
      const peer = await rawConnect(port, 'resend-1', false)
      const seen: Array<{ id: number; dup: boolean; payload: string }> = []
      let subacked = false
      const parser = mqttPacket.parser({ protocolVersion: 4 })
      parser.on('packet', (p: mqttPacket.Packet) => {
        if (p.cmd === 'publish') seen.push({ id: p.messageId ?? 0, dup: p.dup, payload: String(p.payload) })
        if (p.cmd === 'suback') subacked = true
      })
      parser.parse(Buffer.concat(peer.received)) // CONNACK and whatever came with it
      peer.socket.on('data', d => parser.parse(d))
      if (subscribe)
        peer.socket.write(
          mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'resend/#', qos: 1 }] } as mqttPacket.ISubscribePacket)
        )
      await eventually(`resend-1: ${subscribe ? 'SUBACK' : `${expected} deliveries`}`, () => (subscribe ? subacked : seen.length >= expected))
      peer.socket.destroy()
      return seen
    }
    try {
      await ids(first.node.ports.mqtt, true, 0)
      const pub = await connect(first.mqttUrl, { clientId: 'resend-pub' })
      for (let i = 0; i < 3; i++) await pub.publishAsync('resend/x', `r${i}`, { qos: 1 })
      await end(pub)
      const firstTry = await ids(first.node.ports.mqtt, false, 3) // delivered, never acknowledged
      assert.deepEqual(
        firstTry.map(p => p.payload),
        ['r0', 'r1', 'r2']
      )
      const again = await ids(first.node.ports.mqtt, false, 3)
      assert.deepEqual(
        again.map(p => [p.payload, p.id]),
        firstTry.map(p => [p.payload, p.id])
      )
      assert.ok(
        again.every(p => p.dup),
        'a resend carries DUP [MQTT-3.3.1-1]'
      )
      await first.stop()
      const second = await startTestBroker(() => {}, first.dataDir)
      try {
        const afterRestart = await ids(second.node.ports.mqtt, false, 3)
        assert.deepEqual(
          afterRestart.map(p => [p.payload, p.id]),
          firstTry.map(p => [p.payload, p.id])
        )
      } finally {
        await second.close()
      }
    } finally {
      await first.close()
    }
  })
})
