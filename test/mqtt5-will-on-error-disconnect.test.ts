// Which client DISCONNECT deletes the will: only Reason Code 0x00 (Normal disconnection) does
// [MQTT-3.1.2-8] [MQTT-3.1.2-10] [MQTT-3.14.4-3]; a DISCONNECT with 0x04, or with an error code the
// client reports (0x80 and up), leaves the will to be published. Wharf deleted it for every code
// but 0x04, as Mosquitto 2.0.11 does. Raw clients over real sockets; 3.1.1's DISCONNECT has no code
// and deletes the will.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IPublishPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { holdsFor } from './support/wait.ts'
import { RawMqttClient } from './support/raw-mqtt5.ts'

describe('the will after a client DISCONNECT', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let sub: RawMqttClient
  const raws: RawMqttClient[] = []
  before(async () => {
    broker = await startTestBroker()
    sub = (await RawMqttClient.connect(broker.node.ports.mqtt, { clientId: 'will-watcher' })).client
    raws.push(sub)
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'will/#', qos: 0 }] } as never)
    await sub.waitFor('suback', 1)
  })
  after(async () => {
    await Promise.all(raws.map(r => r.destroy()))
    await broker.close()
  })
  const willsFor = (topic: string): number => (sub.of('publish') as IPublishPacket[]).filter(p => p.topic === topic).length

  /** Connects with a will on will/<name>, sends DISCONNECT with the code, waits for the close. */
  const disconnectWith = async (name: string, reasonCode: number | undefined, version: 4 | 5 = 5): Promise<string> => {
    const topic = `will/${name}`
    const { client } = await RawMqttClient.connect(
      broker.node.ports.mqtt,
      { clientId: `will-${name}`, will: { topic, payload: Buffer.from('gone'), qos: 0, retain: false } } as never,
      version
    )
    raws.push(client)
    client.send({ cmd: 'disconnect', ...(reasonCode === undefined ? {} : { reasonCode }) } as never)
    await client.closed
    return topic
  }

  for (const [code, name] of [
    [0x04, 'Disconnect with Will Message'],
    [0x80, 'Unspecified error'],
    [0x83, 'Implementation specific error'],
    [0x99, 'Payload format invalid']
  ] as const) {
    test(`DISCONNECT 0x${code.toString(16)} (${name}) publishes the will [MQTT-3.1.2-8]`, async () => {
      const topic = await disconnectWith(`rc-${code}`, code)
      await sub.until(`the will on ${topic}`, () => willsFor(topic) === 1)
      const will = (sub.of('publish') as IPublishPacket[]).find(p => p.topic === topic)
      assert.equal(will?.payload.toString(), 'gone')
    })
  }

  test('DISCONNECT 0x00 deletes the will [MQTT-3.14.4-3] [MQTT-3.1.2-10]', async () => {
    const topic = await disconnectWith('rc-0', 0)
    // A will sent after it would come well within this; the 0x80 test above shows how soon one comes.
    await holdsFor('no will after DISCONNECT 0x00', () => willsFor(topic) === 0, 500)
  })

  test('3.1.1: DISCONNECT (no reason code) deletes the will', async () => {
    const topic = await disconnectWith('v4', undefined, 4)
    await holdsFor('no will after a 3.1.1 DISCONNECT', () => willsFor(topic) === 0, 500)
  })
})
