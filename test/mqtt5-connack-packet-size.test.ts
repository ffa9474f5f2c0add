// The CONNACK respects the client's Maximum Packet Size like every other packet [MQTT-3.1.2-24]. Wharf
// sent its 24-byte CONNACK (capabilities stated even where they are the defaults) to clients that
// allowed 8, 12 or 20 bytes; Mosquitto 2.0.11 sends 11 bytes (only what differs from the defaults)
// and, to a client allowing 8, closes without a CONNACK. Raw clients over real sockets.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IConnackPacket, IPublishPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { RawMqttClient } from './support/raw-mqtt5.ts'

describe("CONNACK within the client's Maximum Packet Size", { timeout: 60_000 }, () => {
  let broker: TestBroker
  const raws: RawMqttClient[] = []
  before(async () => {
    broker = await startTestBroker()
  })
  after(async () => {
    await Promise.all(raws.map(r => r.destroy()))
    await broker.close()
  })
  const connect = async (clientId: string, maximumPacketSize: number): Promise<{ client: RawMqttClient; connack: IConnackPacket }> => {
    const r = await RawMqttClient.connect(broker.node.ports.mqtt, { clientId, properties: { maximumPacketSize } })
    raws.push(r.client)
    return r
  }

  test('a client allowing 20 bytes gets a CONNACK of at most 20, without the defaults, and can work [MQTT-3.1.2-24]', async () => {
    const { client, connack } = await connect('small-20', 20)
    const [raw] = client.rawOf('connack')
    assert.ok(raw !== undefined && raw.raw.length <= 20, `CONNACK of ${raw?.raw.length} bytes`)
    assert.equal(connack.reasonCode, 0)
    assert.equal(connack.properties?.maximumPacketSize, 16_777_216, 'the server limit is still told')
    assert.equal(connack.properties?.receiveMaximum, undefined, 'Receive Maximum 65535 is the default: left out')
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 's/t', qos: 0 }] } as never)
    await client.waitFor('suback', 1)
    client.send({ cmd: 'publish', topic: 's/t', payload: 'hi', qos: 0 } as never)
    const [got] = (await client.waitFor('publish', 1)) as IPublishPacket[]
    assert.equal(got?.payload.toString(), 'hi')
  })

  test('a client allowing 12 bytes gets the Maximum Packet Size alone (10 bytes) [MQTT-3.1.2-24]', async () => {
    const { client, connack } = await connect('small-12', 12)
    assert.equal(client.rawOf('connack')[0]?.raw.length, 10)
    assert.deepEqual(connack.properties, { maximumPacketSize: 16_777_216 })
  })

  test('a client allowing 8 bytes gets no CONNACK: the connection is closed [MQTT-3.1.2-24]', async () => {
    await assert.rejects(connect('small-8', 8), /connection closed while waiting for 1 CONNACK; got nothing/)
  })

  test('a client allowing the default size still gets every capability stated', async () => {
    const { connack } = await connect('default-size', 268_435_455)
    assert.equal(connack.properties?.receiveMaximum, 65535)
    assert.equal(connack.properties?.sharedSubscriptionAvailable, true)
  })
})
