// Review: the server's Receive Maximum (mqtt.receiveMaximum) counts the client's QoS 1/2 PUBLISHes not
// yet answered by PUBACK / PUBCOMP as the client's send quota does (§4.9): every PUBCOMP gives a
// place back, but never more places than Receive Maximum [MQTT-3.3.4-7] [MQTT-4.9.0-2]. PUBRELs for
// packet ids nobody used (answered PUBCOMP 0x92) must not open the window wider.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IDisconnectPacket, IPubcompPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { RawMqttClient, publish5 } from './support/raw-mqtt5.ts'

describe('the server Receive Maximum (review)', { timeout: 60_000 }, () => {
  let broker: TestBroker
  const raws: RawMqttClient[] = []
  before(async () => {
    broker = await startTestBroker(c => {
      c.mqtt.receiveMaximum = 2
    })
  })
  after(async () => {
    await Promise.all(raws.map(r => r.destroy()))
    await broker.close()
  })

  test('PUBRELs for unknown packet ids (PUBCOMP 0x92) give no extra places: the third QoS 2 PUBLISH in flight gets DISCONNECT 0x93 [MQTT-3.3.4-7] [§4.9]', async () => {
    const { client: c } = await RawMqttClient.connect(broker.node.ports.mqtt, { clientId: 'rmx-unknown' })
    raws.push(c)
    for (const id of [100, 101, 102]) c.send({ cmd: 'pubrel', messageId: id })
    const comps = (await c.waitFor('pubcomp', 3)) as IPubcompPacket[]
    assert.deepEqual(
      comps.map(p => p.reasonCode),
      [0x92, 0x92, 0x92]
    )
    for (const id of [1, 2]) c.sendRaw(publish5({ topic: 'rmx/t', payload: `m${id}`, qos: 2, packetId: id }))
    await c.waitFor('pubrec', 2)
    c.sendRaw(publish5({ topic: 'rmx/t', payload: 'm3', qos: 2, packetId: 3 }))
    const [d] = (await c.waitFor('disconnect', 1)) as IDisconnectPacket[]
    assert.equal(d?.reasonCode, 0x93)
  })

  test('a PUBCOMP gives its place back: Receive Maximum QoS 2 exchanges one after another are fine [MQTT-4.9.0-2]', async () => {
    const { client: c } = await RawMqttClient.connect(broker.node.ports.mqtt, { clientId: 'rmx-ok' })
    raws.push(c)
    for (let round = 0; round < 3; round++) {
      for (const id of [1, 2]) c.sendRaw(publish5({ topic: 'rmx/t', payload: `r${round}-${id}`, qos: 2, packetId: id }))
      await c.waitFor('pubrec', 2 * (round + 1))
      for (const id of [1, 2]) c.send({ cmd: 'pubrel', messageId: id })
      await c.waitFor('pubcomp', 2 * (round + 1))
    }
    assert.equal(c.of('disconnect').length, 0)
    assert.equal(c.isClosed, false)
  })
})
