// Review: what a resumed MQTT 5 session resends when its client comes back with other limits. The
// deliveries left unacknowledged go again [MQTT-4.4.0-1], but within the new connection's Maximum
// Packet Size [MQTT-3.1.2-24] [MQTT-3.1.2-25] and Receive Maximum [MQTT-3.3.4-9], as Mosquitto 2 does.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IPublishPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, end } from './support/mqtt-helpers.ts'
import { eventually, holdsFor } from './support/wait.ts'
import { RawMqttClient } from './support/raw-mqtt5.ts'
import { adminFetch } from './support/admin-http.ts'

describe('MQTT 5 session resumed with other limits', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let port: number
  const raws: RawMqttClient[] = []
  const raw = async (clientId: string, properties: Record<string, unknown>): Promise<RawMqttClient> => {
    const { client } = await RawMqttClient.connect(port, { clientId, clean: false, properties: { sessionExpiryInterval: 300, ...properties } })
    raws.push(client)
    return client
  }
  const queueMessages = async (name: string): Promise<number> => {
    const res = await adminFetch(`${broker.adminUrl}/api/queues/%2F/${encodeURIComponent(name)}`)
    return ((await res.json()) as { messages: number }).messages
  }

  before(async () => {
    broker = await startTestBroker()
    port = broker.node.ports.mqtt
  })
  after(async () => {
    await Promise.all(raws.map(r => r.destroy()))
    await broker.close()
  })

  test('an unacknowledged delivery now over the Maximum Packet Size is discarded as if completed; later ones still come [MQTT-3.1.2-25] [MQTT-4.4.0-1]', async () => {
    const first = await raw('rc-mps', { receiveMaximum: 1 })
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'rc-mps/#', qos: 1 }] })
    await first.waitFor('suback', 1)
    const pub = await connect(broker.mqttUrl, { protocolVersion: 5 })
    try {
      await pub.publishAsync('rc-mps/big', 'x'.repeat(500), { qos: 1 })
      await first.waitFor('publish', 1)
      await first.destroy() // not acknowledged
      const second = await raw('rc-mps', { receiveMaximum: 1, maximumPacketSize: 200 })
      await pub.publishAsync('rc-mps/small', 'small', { qos: 1 })
      const [p] = (await second.waitFor('publish', 1)) as IPublishPacket[]
      assert.equal(String(p?.payload), 'small')
      second.send({ cmd: 'puback', messageId: p?.messageId as number })
      await eventually('the session queue is empty', async () => (await queueMessages('mqtt-session/rc-mps')) === 0)
    } finally {
      await end(pub)
    }
  })

  test('unacknowledged deliveries are resent no more than the new Receive Maximum at once; the rest follow as PUBACKs come [MQTT-3.3.4-9] [MQTT-4.4.0-1]', async () => {
    const first = await raw('rc-rm', { receiveMaximum: 5 })
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'rc-rm/#', qos: 1 }] })
    await first.waitFor('suback', 1)
    const pub = await connect(broker.mqttUrl, { protocolVersion: 5 })
    try {
      for (let i = 0; i < 5; i++) await pub.publishAsync('rc-rm/t', `m${i}`, { qos: 1 })
      await first.waitFor('publish', 5)
      await first.destroy() // none acknowledged
      const second = await raw('rc-rm', { receiveMaximum: 2 })
      await second.waitFor('publish', 2)
      await holdsFor('no more than Receive Maximum 2 in flight', () => second.of('publish').length === 2, 300)
      const got: string[] = []
      for (let i = 0; i < 5; i++) {
        await second.waitFor('publish', i + 1)
        const p = second.of('publish')[i] as IPublishPacket
        got.push(String(p.payload))
        assert.equal(p.dup, true, `${String(p.payload)} is a resend`)
        second.send({ cmd: 'puback', messageId: p.messageId as number })
      }
      assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4'])
      await holdsFor('nothing more comes', () => second.of('publish').length === 5, 200)
      await eventually('the session queue is empty', async () => (await queueMessages('mqtt-session/rc-rm')) === 0)
    } finally {
      await end(pub)
    }
  })
})
