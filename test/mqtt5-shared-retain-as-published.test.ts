// Retain As Published on a shared subscription: a delivery keeps the RETAIN flag it was published
// with when the option is 1, else has 0 [MQTT-3.3.1-12] [MQTT-3.3.1-13]; the spec forbids only No
// Local on a shared subscription [MQTT-3.8.3-4]. Wharf dropped the option for `$share/` filters and
// always sent RETAIN 0; Mosquitto 2.0.11 (probed the same way) sends 1. The option is kept with a
// durable session's memberships, so it holds across a restart too. Raw clients over real sockets.
import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IPublishPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { RawMqttClient } from './support/raw-mqtt5.ts'

/** The RETAIN bit of each PUBLISH received, by the Subscription Identifier it carries. */
function retainBySubscription(c: RawMqttClient): Array<[number | undefined, number, string]> {
  return c.rawOf('publish').map(r => {
    const p = r.packet as IPublishPacket
    const id = p.properties?.subscriptionIdentifier
    return [typeof id === 'number' ? id : undefined, (r.raw[0] as number) & 1, p.payload.toString()]
  })
}

describe('Retain As Published on shared subscriptions', { timeout: 60_000 }, () => {
  const brokers: TestBroker[] = []
  const raws: RawMqttClient[] = []
  after(async () => {
    await Promise.all(raws.map(r => r.destroy()))
    for (const b of brokers.reverse()) await b.close()
  })
  const connect = async (port: number, clientId: string, connect: Record<string, unknown> = {}): Promise<RawMqttClient> => {
    const { client } = await RawMqttClient.connect(port, { clientId, ...connect })
    raws.push(client)
    return client
  }
  const publishRetainedThenClear = async (port: number, topic: string): Promise<void> => {
    const pub = await connect(port, `pub-${topic.replaceAll('/', '-')}`)
    pub.send({ cmd: 'publish', topic, payload: 'kept', qos: 1, messageId: 1, retain: true } as never)
    pub.send({ cmd: 'publish', topic, payload: 'live', qos: 1, messageId: 2, retain: false } as never)
    await pub.waitFor('puback', 2)
    pub.send({ cmd: 'publish', topic, payload: '', qos: 1, messageId: 3, retain: true } as never)
    await pub.waitFor('puback', 3)
  }

  test('RETAIN as published with the option, 0 without it [MQTT-3.3.1-13] [MQTT-3.3.1-12]', async () => {
    const broker = await startTestBroker()
    brokers.push(broker)
    const port = broker.node.ports.mqtt
    const sub = await connect(port, 'rap-shared')
    sub.send({
      cmd: 'subscribe',
      messageId: 1,
      subscriptions: [{ topic: '$share/keep/rap/t', qos: 1, rap: true }],
      properties: { subscriptionIdentifier: 1 }
    } as never)
    sub.send({
      cmd: 'subscribe',
      messageId: 2,
      subscriptions: [{ topic: '$share/drop/rap/t', qos: 1, rap: false }],
      properties: { subscriptionIdentifier: 2 }
    } as never)
    await sub.waitFor('suback', 2)
    await publishRetainedThenClear(port, 'rap/t')
    await sub.waitFor('publish', 6)
    const got = retainBySubscription(sub)
    assert.deepEqual(
      got.filter(([id]) => id === 1),
      [
        [1, 1, 'kept'],
        [1, 0, 'live'],
        [1, 1, '']
      ]
    )
    assert.deepEqual(
      got.filter(([id]) => id === 2),
      [
        [2, 0, 'kept'],
        [2, 0, 'live'],
        [2, 0, '']
      ]
    )
  })

  test("a durable session's shared membership keeps the option across a restart [MQTT-3.3.1-13]", async () => {
    const first = await startTestBroker()
    const sub = await connect(first.node.ports.mqtt, 'rap-durable', { properties: { sessionExpiryInterval: 600 } })
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/keep/rap/d', qos: 1, rap: true }] } as never)
    await sub.waitFor('suback', 1)
    await sub.destroy()
    await first.stop()
    const second = await startTestBroker(() => {}, first.dataDir)
    brokers.push(second)
    const port = second.node.ports.mqtt
    const again = await connect(port, 'rap-durable', { clean: false, properties: { sessionExpiryInterval: 600 } })
    await publishRetainedThenClear(port, 'rap/d')
    await again.waitFor('publish', 3)
    assert.deepEqual(retainBySubscription(again), [
      [undefined, 1, 'kept'],
      [undefined, 0, 'live'],
      [undefined, 1, '']
    ])
  })
})
