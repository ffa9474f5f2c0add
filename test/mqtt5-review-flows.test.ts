// Review: MQTT 5 flows the other suites leave out: QoS 2 packet identifiers both ways, takeover with a
// will, Request Problem Information 0, invalid shared filters, shared QoS downgrade, Subscription
// Identifiers on retained copies, and topics a PUBLISH may not carry. Raw clients over real sockets.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IDisconnectPacket, IPubackPacket, IPubcompPacket, IPublishPacket, IPubrecPacket, ISubackPacket, IUnsubackPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { holdsFor } from './support/wait.ts'
import { RawMqttClient, publish5, prop } from './support/raw-mqtt5.ts'

describe('MQTT 5 flows (review)', { timeout: 90_000 }, () => {
  let broker: TestBroker
  let port: number
  const raws: RawMqttClient[] = []
  const raw = async (clientId: string, connect: Record<string, unknown> = {}): Promise<RawMqttClient> => {
    const { client } = await RawMqttClient.connect(port, { clientId, ...connect })
    raws.push(client)
    return client
  }
  const subscribe = async (c: RawMqttClient, subscriptions: Array<Record<string, unknown>>, properties?: Record<string, unknown>): Promise<ISubackPacket> => {
    const n = c.of('suback').length
    c.send({ cmd: 'subscribe', messageId: n + 1, subscriptions, ...(properties === undefined ? {} : { properties }) } as never)
    return (await c.waitFor('suback', n + 1))[n] as ISubackPacket
  }
  const publishes = (c: RawMqttClient): IPublishPacket[] => c.of('publish') as IPublishPacket[]

  before(async () => {
    broker = await startTestBroker(config => {
      config.auth.users = []
    })
    port = broker.node.ports.mqtt
  })
  after(async () => {
    await Promise.all(raws.map(r => r.destroy()))
    await broker.close()
  })

  test('QoS 2 in: a packet id used again after PUBCOMP is a new message; before PUBREL a resend is not routed again [MQTT-4.3.3-12] [MQTT-4.3.3-10]', async () => {
    const sub = await raw('fl-q2in-sub')
    await subscribe(sub, [{ topic: 'fl/q2in', qos: 0 }])
    const pub = await raw('fl-q2in-pub')
    pub.sendRaw(publish5({ topic: 'fl/q2in', payload: 'one', qos: 2, packetId: 7 }))
    await pub.waitFor('pubrec', 1)
    pub.sendRaw(publish5({ topic: 'fl/q2in', payload: 'one', qos: 2, packetId: 7 })) // resend before PUBREL
    await pub.waitFor('pubrec', 2)
    pub.send({ cmd: 'pubrel', messageId: 7 })
    const [comp] = (await pub.waitFor('pubcomp', 1)) as IPubcompPacket[]
    assert.equal(comp?.reasonCode ?? 0, 0)
    pub.sendRaw(publish5({ topic: 'fl/q2in', payload: 'two', qos: 2, packetId: 7 }))
    await pub.waitFor('pubrec', 3)
    pub.send({ cmd: 'pubrel', messageId: 7 })
    await pub.waitFor('pubcomp', 2)
    await sub.waitFor('publish', 2)
    await holdsFor('no third copy', () => publishes(sub).length === 2, 200)
    assert.deepEqual(
      publishes(sub).map(p => String(p.payload)),
      ['one', 'two']
    )
  })

  test('QoS 2 out: after PUBREC and a reconnect the PUBREL is sent again, not the PUBLISH; PUBCOMP ends it [MQTT-4.4.0-1] [MQTT-4.3.3-4]', async () => {
    const props = { clean: false, properties: { sessionExpiryInterval: 60 } }
    const first = await raw('fl-q2out', props)
    await subscribe(first, [{ topic: 'fl/q2out', qos: 2 }])
    const pub = await raw('fl-q2out-pub')
    pub.sendRaw(publish5({ topic: 'fl/q2out', payload: 'x', qos: 1, packetId: 1 }))
    const [p] = (await first.waitFor('publish', 1)) as IPublishPacket[]
    assert.equal(p?.qos, 1)
    pub.sendRaw(publish5({ topic: 'fl/q2out', payload: 'y', qos: 2, packetId: 2 }))
    const q2 = ((await first.waitFor('publish', 2)) as IPublishPacket[])[1] as IPublishPacket
    first.send({ cmd: 'puback', messageId: p?.messageId as number })
    first.send({ cmd: 'pubrec', messageId: q2.messageId as number })
    await first.waitFor('pubrel', 1)
    await first.destroy()
    const second = await raw('fl-q2out', props)
    const [rel] = await second.waitFor('pubrel', 1)
    assert.equal((rel as { messageId: number }).messageId, q2.messageId)
    second.send({ cmd: 'pubcomp', messageId: q2.messageId as number })
    await holdsFor('no PUBLISH is sent again', () => second.of('publish').length === 0, 300)
  })

  test('takeover with Clean Start 0: a will with a delay is not published (the session goes on) [MQTT-3.1.3-9]; one without a delay is [§3.1.4] [MQTT-3.1.4-3]', async () => {
    const watcher = await raw('fl-will-watch')
    await subscribe(watcher, [{ topic: 'fl/will/#', qos: 0 }])
    const delayed = {
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      will: { topic: 'fl/will/delayed', payload: Buffer.from('gone'), qos: 0, retain: false, properties: { willDelayInterval: 1 } }
    }
    await raw('fl-will-a', delayed)
    const b = await raw('fl-will-a', { clean: false, properties: { sessionExpiryInterval: 60 } })
    await holdsFor('the delayed will is not published past its delay', () => publishes(watcher).length === 0, 1600)
    assert.equal(b.isClosed, false)
    const immediate = {
      clean: false,
      properties: { sessionExpiryInterval: 60 },
      will: { topic: 'fl/will/now', payload: Buffer.from('gone'), qos: 0, retain: false }
    }
    const old = await raw('fl-will-b', immediate)
    await raw('fl-will-b', { clean: false, properties: { sessionExpiryInterval: 60 } })
    const [d] = (await old.waitFor('disconnect', 1)) as IDisconnectPacket[]
    assert.equal(d?.reasonCode, 0x8e)
    await watcher.waitFor('publish', 1)
    assert.equal(publishes(watcher)[0]?.topic, 'fl/will/now')
  })

  test('Request Problem Information 0: no Reason String on a refusing PUBACK or PUBREC, nor on UNSUBACK [MQTT-3.1.2-29]', async () => {
    const c = await raw('fl-rpi', { properties: { requestProblemInformation: false } })
    c.sendRaw(publish5({ topic: '$SYS/x', payload: 'no', qos: 1, packetId: 1 }))
    c.sendRaw(publish5({ topic: '$SYS/x', payload: 'no', qos: 2, packetId: 2 }))
    const [ack] = (await c.waitFor('puback', 1)) as IPubackPacket[]
    const [rec] = (await c.waitFor('pubrec', 1)) as IPubrecPacket[]
    assert.equal(ack?.reasonCode, 0x87)
    assert.equal(rec?.reasonCode, 0x87)
    assert.equal(ack?.properties?.reasonString, undefined)
    assert.equal(rec?.properties?.reasonString, undefined)
    c.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['fl/none'] })
    const [unsub] = (await c.waitFor('unsuback', 1)) as IUnsubackPacket[]
    assert.deepEqual(unsub?.granted, [0x11])
    assert.equal(unsub?.properties?.reasonString, undefined)
  })

  test('invalid shared filters get SUBACK 0x8F each, a valid one in the same SUBSCRIBE is granted [MQTT-4.8.2-1] [MQTT-4.8.2-2] [MQTT-3.9.3-1]', async () => {
    const c = await raw('fl-share-bad')
    const suback = await subscribe(c, [
      { topic: '$share/g+/t', qos: 1 },
      { topic: '$share/g#/t', qos: 1 },
      { topic: '$share//t', qos: 1 },
      { topic: '$share/g', qos: 1 },
      { topic: '$share/g/', qos: 1 },
      { topic: '$share/g/a/#/b', qos: 1 },
      { topic: '$share/g/fl/share-ok', qos: 1 }
    ])
    assert.deepEqual(suback.granted, [0x8f, 0x8f, 0x8f, 0x8f, 0x8f, 0x8f, 1])
    c.send({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: ['$share/g/fl/share-ok', '$share/g/fl/never'] })
    const [unsub] = (await c.waitFor('unsuback', 1)) as IUnsubackPacket[]
    assert.deepEqual(unsub?.granted, [0x00, 0x11])
  })

  test('a shared subscription delivers at min(its QoS, the message QoS) [MQTT-3.8.4-8] [§4.8.2]', async () => {
    const m0 = await raw('fl-share-q0')
    await subscribe(m0, [{ topic: '$share/q0/fl/shq', qos: 0 }])
    const m1 = await raw('fl-share-q1')
    await subscribe(m1, [{ topic: '$share/q1/fl/shq', qos: 1 }])
    const pub = await raw('fl-share-pub')
    pub.sendRaw(publish5({ topic: 'fl/shq', payload: 'q2', qos: 2, packetId: 1 }))
    await pub.waitFor('pubrec', 1)
    pub.send({ cmd: 'pubrel', messageId: 1 })
    const [a] = (await m0.waitFor('publish', 1)) as IPublishPacket[]
    const [b] = (await m1.waitFor('publish', 1)) as IPublishPacket[]
    assert.equal(a?.qos, 0)
    assert.equal(b?.qos, 1)
    m1.send({ cmd: 'puback', messageId: b?.messageId as number })
  })

  test('a retained copy carries the Subscription Identifier of the subscription that asked for it [MQTT-3.3.4-3]', async () => {
    const pub = await raw('fl-sid-pub')
    pub.sendRaw(publish5({ topic: 'fl/sid/r', payload: 'kept', qos: 1, packetId: 1, retain: true }))
    await pub.waitFor('puback', 1)
    const c = await raw('fl-sid-sub')
    await subscribe(c, [{ topic: 'fl/sid/#', qos: 1 }], { subscriptionIdentifier: 42 })
    const [p] = (await c.waitFor('publish', 1)) as IPublishPacket[]
    assert.equal(p?.retain, true)
    assert.equal(p?.properties?.subscriptionIdentifier, 42)
  })

  test('a Response Topic with a wildcard is a Protocol Error: DISCONNECT 0x82, nothing routed [MQTT-3.3.2-14] (as EMQX 5)', async () => {
    const sub = await raw('fl-rt-sub')
    await subscribe(sub, [{ topic: 'fl/rt', qos: 0 }])
    const c = await raw('fl-rt')
    c.sendRaw(publish5({ topic: 'fl/rt', payload: 'answer me', qos: 1, packetId: 1, properties: [prop.str(0x08, 'replies/+')] }))
    const [d] = (await c.waitFor('disconnect', 1)) as IDisconnectPacket[]
    assert.equal(d?.reasonCode, 0x82)
    await c.closed
    await holdsFor('nothing routed', () => publishes(sub).length === 0, 200)
  })

  test('a zero-length topic without a Topic Alias closes the connection with a DISCONNECT reason code, nothing routed [MQTT-4.7.3-1] [§3.3.2.3.4]', async () => {
    const sub = await raw('fl-empty-sub')
    await subscribe(sub, [{ topic: '#', qos: 0 }])
    const c = await raw('fl-empty')
    c.sendRaw(publish5({ topic: '', payload: 'where', qos: 0 }))
    const [d] = (await c.waitFor('disconnect', 1)) as IDisconnectPacket[]
    assert.ok((d?.reasonCode ?? 0) >= 0x80)
    await c.closed
    await holdsFor('nothing routed', () => publishes(sub).every(p => String(p.payload) !== 'where'), 200)
  })
})
