// Configured limits are enforced and reported: connections, in-flight window, offline queue bounds.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import { startTestBroker } from './support/test-broker.ts'
import { connect, collector, end, eventually, settled } from './support/mqtt-helpers.ts'
import { rawConnect } from './support/raw-mqtt.ts'
import { adminFetch } from './support/admin-http.ts'

async function metric(adminUrl: string, name: string): Promise<number> {
  const text = await (await adminFetch(`${adminUrl}/metrics`)).text()
  const line = text.split('\n').find(l => l.startsWith(name + ' '))
  return line ? Number(line.split(' ')[1]) : NaN
}

describe('MQTT limits', { timeout: 60_000 }, () => {
  test('mqtt.maxConnections refuses the connection past the limit and counts it', async () => {
    const broker = await startTestBroker(c => {
      c.mqtt.maxConnections = 2
    })
    try {
      const a = await connect(broker.mqttUrl, { clientId: 'c1' })
      const b = await connect(broker.mqttUrl, { clientId: 'c2' })
      await assert.rejects(connect(broker.mqttUrl, { clientId: 'c3' }, 3000))
      assert.equal(await metric(broker.adminUrl, 'wharf_mqtt_connections_refused_total'), 1)
      await end(a)
      await eventually('the first connection is closed on the broker', () => broker.node.metrics.value('wharf_mqtt_connections_open') === 1)
      const c = await connect(broker.mqttUrl, { clientId: 'c3' })
      await end(b, c)
    } finally {
      await broker.close()
    }
  })

  test('mqtt.maxInflightMessages holds deliveries until PUBACKs free the window', async () => {
    const broker = await startTestBroker(c => {
      c.mqtt.maxInflightMessages = 5
    })
    try {
      // A raw peer, because mqtt.js reads no further packet while one PUBACK is withheld.
      const slow = await rawConnect(broker.node.ports.mqtt, 'slow')
      const publishes: Array<{ messageId: number; payload: string }> = []
      const parser = mqttPacket.parser({ protocolVersion: 4 })
      let subacked = false
      let pingResponses = 0
      parser.on('packet', (p: mqttPacket.Packet) => {
        if (p.cmd === 'publish') publishes.push({ messageId: p.messageId ?? 0, payload: String(p.payload) })
        if (p.cmd === 'suback') subacked = true
        if (p.cmd === 'pingresp') pingResponses++
      })
      slow.socket.on('data', d => parser.parse(d))
      slow.socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'win', qos: 1 }] } as mqttPacket.ISubscribePacket))
      await eventually('SUBACK', () => subacked)
      // The broker writes a connection's packets in order: once PINGRESP is here, every PUBLISH it sent before is too.
      const roundTrip = async (): Promise<void> => {
        const before = pingResponses
        slow.socket.write(mqttPacket.generate({ cmd: 'pingreq' }))
        await eventually('PINGRESP', () => pingResponses > before)
      }
      const pub = await connect(broker.mqttUrl, { clientId: 'fast' })
      for (let i = 0; i < 20; i++) await pub.publishAsync('win', `m${i}`, { qos: 1 })
      await roundTrip()
      assert.equal(publishes.length, 5, 'only the window is delivered while acks are withheld')
      let acked = 0
      while (acked < 20) {
        const batch = publishes.slice(acked) // received, not yet acknowledged
        for (const p of batch) slow.socket.write(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId } as mqttPacket.IPubackPacket))
        acked += batch.length
        if (acked >= 20) break
        await eventually(`deliveries past ${acked}`, () => publishes.length > acked)
        await roundTrip()
        assert.ok(publishes.length - acked <= 5, 'never more than the window in flight')
      }
      assert.deepEqual(
        publishes.map(p => p.payload),
        Array.from({ length: 20 }, (_, i) => `m${i}`)
      )
      slow.socket.destroy()
      await end(pub)
    } finally {
      await broker.close()
    }
  })

  for (const policy of ['drop-oldest', 'drop-newest'] as const) {
    test(`mqtt.maxQueuedMessages with ${policy} bounds an offline session and counts drops`, async () => {
      const broker = await startTestBroker(c => {
        c.mqtt.maxQueuedMessages = 10
        c.mqtt.queueOverflow = policy
      })
      try {
        const sub = await connect(broker.mqttUrl, { clientId: `q-${policy}`, clean: false })
        await sub.subscribeAsync('q/#', { qos: 1 })
        await end(sub)
        const pub = await connect(broker.mqttUrl, { clientId: `q-pub-${policy}` })
        for (let i = 0; i < 15; i++) await pub.publishAsync('q/x', `m${i}`, { qos: 1 })
        await end(pub)
        const back = await connect(broker.mqttUrl, { clientId: `q-${policy}`, clean: false })
        const got = collector(back)
        await got.waitFor(10)
        await settled(back)
        const expected = policy === 'drop-oldest' ? Array.from({ length: 10 }, (_, i) => `m${i + 5}`) : Array.from({ length: 10 }, (_, i) => `m${i}`)
        assert.deepEqual(
          got.messages.map(m => m.payload),
          expected
        )
        assert.equal(await metric(broker.adminUrl, 'wharf_mqtt_queue_overflow_total'), 5)
        assert.ok(broker.logs.some(l => l.msg === 'queue limit reached, message dropped'))
        await end(back)
      } finally {
        await broker.close()
      }
    })
  }

  test('mqtt.maxQueuedBytes bounds an offline session by payload bytes', async () => {
    const broker = await startTestBroker(c => {
      c.mqtt.maxQueuedBytes = 1000
      c.mqtt.queueOverflow = 'drop-newest'
    })
    try {
      const sub = await connect(broker.mqttUrl, { clientId: 'qb', clean: false })
      await sub.subscribeAsync('qb', { qos: 1 })
      await end(sub)
      const pub = await connect(broker.mqttUrl, { clientId: 'qb-pub' })
      for (let i = 0; i < 5; i++) await pub.publishAsync('qb', Buffer.alloc(300, 48 + i), { qos: 1 })
      await end(pub)
      const back = await connect(broker.mqttUrl, { clientId: 'qb', clean: false })
      const got = collector(back)
      await got.waitFor(3)
      await settled(back)
      assert.equal(got.messages.length, 3)
      assert.equal(await metric(broker.adminUrl, 'wharf_mqtt_queue_overflow_total'), 2)
      await end(back)
    } finally {
      await broker.close()
    }
  })
})
