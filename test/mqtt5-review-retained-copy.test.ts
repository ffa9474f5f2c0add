// Review: a retained message sent because of a new subscription is that subscription's message alone:
// its Subscription Identifier and its QoS, not those of an overlapping subscription that did not ask
// for it (one with Retain Handling 2 must never get a retained message) [MQTT-3.3.1-11] [MQTT-3.3.4-3]
// [MQTT-3.8.4-8], as Mosquitto 2 sends them. Live messages still go to every matching subscription.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IPublishPacket, ISubackPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { holdsFor } from './support/wait.ts'
import { RawMqttClient, publish5 } from './support/raw-mqtt5.ts'

describe('retained copies and overlapping subscriptions (review)', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let port: number
  const raws: RawMqttClient[] = []
  const raw = async (clientId: string): Promise<RawMqttClient> => {
    const { client } = await RawMqttClient.connect(port, { clientId })
    raws.push(client)
    return client
  }
  const subscribe = async (c: RawMqttClient, topic: string, qos: 0 | 1 | 2, rh: 0 | 1 | 2, id: number): Promise<ISubackPacket> => {
    const n = c.of('suback').length
    c.send({ cmd: 'subscribe', messageId: n + 1, subscriptions: [{ topic, qos, rh }], properties: { subscriptionIdentifier: id } })
    return (await c.waitFor('suback', n + 1))[n] as ISubackPacket
  }
  const ids = (p: IPublishPacket | undefined): number[] => {
    const v = p?.properties?.subscriptionIdentifier
    return v === undefined ? [] : Array.isArray(v) ? [...v].sort() : [v]
  }

  before(async () => {
    broker = await startTestBroker()
    port = broker.node.ports.mqtt
  })
  after(async () => {
    await Promise.all(raws.map(r => r.destroy()))
    await broker.close()
  })

  test('the retained copy for a new subscription carries its identifier and QoS only, not those of an overlapping Retain Handling 2 one [MQTT-3.3.1-11] [MQTT-3.3.4-3] [MQTT-3.8.4-8]', async () => {
    const pub = await raw('rcopy-pub')
    pub.sendRaw(publish5({ topic: 'rcopy/a', payload: 'kept', qos: 1, packetId: 1, retain: true }))
    await pub.waitFor('puback', 1)
    const c = await raw('rcopy-sub')
    await subscribe(c, 'rcopy/#', 2, 2, 2)
    await holdsFor('Retain Handling 2 sends no retained message', () => c.of('publish').length === 0, 200)
    await subscribe(c, 'rcopy/a', 0, 0, 1)
    const [copy] = (await c.waitFor('publish', 1)) as IPublishPacket[]
    assert.equal(copy?.retain, true)
    assert.deepEqual(ids(copy), [1])
    assert.equal(copy?.qos, 0)
    await holdsFor('one copy only', () => c.of('publish').length === 1, 200)
    // A live publish matches both: every identifier, the highest QoS [MQTT-3.3.4-2] [MQTT-3.3.4-3].
    pub.sendRaw(publish5({ topic: 'rcopy/a', payload: 'live', qos: 1, packetId: 2 }))
    const live = ((await c.waitFor('publish', 2)) as IPublishPacket[])[1]
    assert.equal(String(live?.payload), 'live')
    assert.deepEqual(ids(live), [1, 2])
    assert.equal(live?.qos, 1)
  })
})
