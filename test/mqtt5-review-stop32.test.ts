// Review: three MQTT 5 conformance points. A zero-length Topic Name without a Topic Alias is a
// Protocol Error (0x82), not an invalid name (0x90, kept for names a PUBLISH may not carry); a
// will's Response Topic is held to the rules of a PUBLISH's; and a QoS 2 exchange resumed at its
// PUBREL keeps its place in the client's Receive Maximum until PUBCOMP, so nothing is resent beside
// it past the maximum. Raw clients over real sockets; "nothing came" is shown by a PINGREQ fence:
// its PINGRESP is written after everything the broker sent before it.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IConnackPacket, IDisconnectPacket, IPublishPacket, IPubrelPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, end } from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'
import { RawMqttClient, publish5, prop } from './support/raw-mqtt5.ts'
import { adminFetch } from './support/admin-http.ts'

describe('MQTT 5 review: empty topic, will Response Topic, resumed PUBREL in the window', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let port: number
  const raws: RawMqttClient[] = []
  const raw = async (clientId: string, connect: Record<string, unknown> = {}): Promise<{ client: RawMqttClient; connack: IConnackPacket }> => {
    const opened = await RawMqttClient.connect(port, { clientId, ...connect })
    raws.push(opened.client)
    return opened
  }
  /** A client resuming a session that outlives its connection. */
  const persistent = async (clientId: string, receiveMaximum: number): Promise<RawMqttClient> => {
    const { client, connack } = await raw(clientId, { clean: false, properties: { sessionExpiryInterval: 300, receiveMaximum } })
    assert.equal(connack.reasonCode, 0)
    return client
  }
  const subscribe = async (c: RawMqttClient, topic: string, qos: 0 | 1 | 2): Promise<void> => {
    const n = c.of('suback').length
    c.send({ cmd: 'subscribe', messageId: n + 1, subscriptions: [{ topic, qos }] })
    await c.waitFor('suback', n + 1)
  }
  /** PINGREQ, then its PINGRESP: every packet the broker wrote before it has arrived. */
  const fence = async (c: RawMqttClient): Promise<void> => {
    const n = c.of('pingresp').length
    c.send({ cmd: 'pingreq' })
    await c.waitFor('pingresp', n + 1)
  }
  const publishes = (c: RawMqttClient): IPublishPacket[] => c.of('publish') as IPublishPacket[]
  const queueMessages = async (name: string): Promise<number> => {
    const res = await adminFetch(`${broker.adminUrl}/api/queues/%2F/${encodeURIComponent(name)}`)
    return ((await res.json()) as { messages: number }).messages
  }
  /** A bad publisher's message would have been routed before its DISCONNECT: a marker published after it comes alone. */
  const onlyMarkerArrives = async (sub: RawMqttClient, topic: string): Promise<void> => {
    const before = publishes(sub).length
    const pub = await connect(broker.mqttUrl, { protocolVersion: 5 })
    try {
      await pub.publishAsync(topic, 'marker', { qos: 1 })
    } finally {
      await end(pub)
    }
    await sub.waitFor('publish', before + 1)
    assert.deepEqual(
      publishes(sub)
        .slice(before)
        .map(p => String(p.payload)),
      ['marker']
    )
  }

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

  // ---- 1. a zero-length Topic Name without a Topic Alias --------------------------------------------

  for (const qos of [0, 1] as const) {
    test(`a QoS ${qos} PUBLISH with a zero-length Topic Name and no Topic Alias: DISCONNECT 0x82 Protocol Error, nothing routed [MQTT-4.7.3-1] [§3.3.2.3.4]`, async () => {
      const { client: sub } = await raw(`st32-empty-sub-${qos}`)
      await subscribe(sub, '#', 0)
      const { client: c } = await raw(`st32-empty-${qos}`)
      c.sendRaw(publish5({ topic: '', payload: 'nowhere', qos, packetId: 1 }))
      const [d] = (await c.waitFor('disconnect', 1)) as IDisconnectPacket[]
      assert.equal(d?.reasonCode, 0x82)
      await c.closed
      assert.equal(c.of('puback').length, 0, 'no PUBACK for it')
      await onlyMarkerArrives(sub, 'st32/empty/marker')
    })
  }

  test('a PUBLISH to a Topic Name with a wildcard still gets DISCONNECT 0x90 Topic Name invalid [MQTT-3.3.2-2]', async () => {
    const { client: c } = await raw('st32-wild')
    c.sendRaw(publish5({ topic: 'st32/+/x', payload: 'wild', qos: 1, packetId: 1 }))
    const [d] = (await c.waitFor('disconnect', 1)) as IDisconnectPacket[]
    assert.equal(d?.reasonCode, 0x90)
    await c.closed
  })

  test('a zero-length Topic Name with a Topic Alias set before still publishes to the alias topic [MQTT-3.3.2-12]', async () => {
    const { client: sub } = await raw('st32-alias-sub')
    await subscribe(sub, 'st32/alias/t', 0)
    const { client: c } = await raw('st32-alias')
    c.sendRaw(publish5({ topic: 'st32/alias/t', payload: 'set', qos: 1, packetId: 1, properties: [prop.u16(0x23, 3)] }))
    c.sendRaw(publish5({ topic: '', payload: 'used', qos: 1, packetId: 2, properties: [prop.u16(0x23, 3)] }))
    await c.waitFor('puback', 2)
    await sub.waitFor('publish', 2)
    assert.deepEqual(
      publishes(sub).map(p => [p.topic, String(p.payload)]),
      [
        ['st32/alias/t', 'set'],
        ['st32/alias/t', 'used']
      ]
    )
  })

  // ---- 2. a will's Response Topic ------------------------------------------------------------------

  for (const [what, responseTopic] of [
    ["a '+' wildcard", 'st32/replies/+'],
    ["a '#' wildcard", 'st32/replies/#'],
    ['zero length', '']
  ] as const) {
    test(`a will Response Topic with ${what} is refused with CONNACK 0x82 Protocol Error, as a PUBLISH's is [MQTT-3.3.2-14] [MQTT-3.2.2-7]`, async () => {
      const { client, connack } = await raw(`st32-will-rt-${responseTopic.length}-${responseTopic.slice(-1)}`, {
        will: { topic: 'st32/will/t', payload: Buffer.from('gone'), qos: 0, retain: false, properties: { responseTopic } }
      })
      assert.equal(connack.reasonCode, 0x82)
      assert.match(String(connack.properties?.reasonString), /will Response Topic/)
      await client.closed // [MQTT-3.2.2-7] closed after a refusing CONNACK
    })
  }

  test('a will with a valid Response Topic is accepted and published with it [MQTT-3.1.2-8] [MQTT-3.3.2-15]', async () => {
    const { client: sub } = await raw('st32-will-sub')
    await subscribe(sub, 'st32/will/ok', 0)
    const { client, connack } = await raw('st32-will-ok', {
      will: { topic: 'st32/will/ok', payload: Buffer.from('gone'), qos: 0, retain: false, properties: { responseTopic: 'st32/replies/dev1' } }
    })
    assert.equal(connack.reasonCode, 0)
    await client.destroy() // no DISCONNECT: the will goes
    const [will] = (await sub.waitFor('publish', 1)) as IPublishPacket[]
    assert.equal(String(will?.payload), 'gone')
    assert.equal(will?.properties?.responseTopic, 'st32/replies/dev1')
  })

  // ---- 3. a resumed PUBREL in the client's Receive Maximum ------------------------------------------

  test('Receive Maximum 1 and a resumed PUBREL: a PUBLISH sent before the QoS 2 one is resent only after its PUBCOMP [MQTT-3.3.4-9] [MQTT-4.4.0-1]', async () => {
    const first = await persistent('st32-rel', 2)
    await subscribe(first, 'st32/rel/#', 2)
    const pub = await connect(broker.mqttUrl, { protocolVersion: 5 })
    try {
      await pub.publishAsync('st32/rel/a', 'one', { qos: 1 })
      await pub.publishAsync('st32/rel/b', 'two', { qos: 2 })
    } finally {
      await end(pub)
    }
    const [one, two] = (await first.waitFor('publish', 2)) as IPublishPacket[]
    assert.deepEqual([one?.qos, two?.qos], [1, 2])
    const twoId = two?.messageId as number
    first.send({ cmd: 'pubrec', messageId: twoId })
    await first.waitFor('pubrel', 1)
    await first.destroy() // 'one' unacknowledged, 'two' waiting for its PUBCOMP

    const second = await persistent('st32-rel', 1)
    const [rel] = (await second.waitFor('pubrel', 1)) as IPubrelPacket[]
    assert.equal(rel?.messageId, twoId)
    await fence(second)
    assert.equal(publishes(second).length, 0, 'the resumed PUBREL fills Receive Maximum 1: no PUBLISH beside it')
    second.send({ cmd: 'pubcomp', messageId: twoId })
    const [again] = (await second.waitFor('publish', 1)) as IPublishPacket[]
    assert.equal(String(again?.payload), 'one')
    assert.equal(again?.dup, true, 'a resend [MQTT-3.3.1-1]')
    assert.equal(again?.messageId, one?.messageId, 'with its packet id [MQTT-4.4.0-1]')
    second.send({ cmd: 'puback', messageId: again?.messageId as number })
    await fence(second)
    assert.equal(publishes(second).length, 1)
    await eventually('the session queue is empty', async () => (await queueMessages('mqtt-session/st32-rel')) === 0)
  })

  test('Receive Maximum 1 and two resumed PUBRELs: the PUBCOMP of one frees no place while the other is in flight [MQTT-3.3.4-9] [MQTT-4.4.0-1]', async () => {
    const first = await persistent('st32-rel2', 3)
    await subscribe(first, 'st32/rel2/#', 2)
    const pub = await connect(broker.mqttUrl, { protocolVersion: 5 })
    try {
      await pub.publishAsync('st32/rel2/a', 'a', { qos: 2 })
      await pub.publishAsync('st32/rel2/b', 'b', { qos: 2 })
      await pub.publishAsync('st32/rel2/c', 'c', { qos: 1 })
    } finally {
      await end(pub)
    }
    const [a, b, c] = (await first.waitFor('publish', 3)) as IPublishPacket[]
    const ids = [a?.messageId as number, b?.messageId as number]
    for (const id of ids) first.send({ cmd: 'pubrec', messageId: id })
    await first.waitFor('pubrel', 2)
    await first.destroy() // 'a' and 'b' wait for PUBCOMP, 'c' unacknowledged

    const second = await persistent('st32-rel2', 1)
    const rels = (await second.waitFor('pubrel', 2)) as IPubrelPacket[]
    assert.deepEqual(
      rels.map(r => r.messageId),
      ids,
      'PUBRELs again, in their order [MQTT-4.4.0-1]'
    )
    await fence(second)
    assert.equal(publishes(second).length, 0, 'two exchanges in flight already')
    second.send({ cmd: 'pubcomp', messageId: ids[0] as number })
    await fence(second)
    assert.equal(publishes(second).length, 0, "'b' still holds the one place: 'c' waits")
    second.send({ cmd: 'pubcomp', messageId: ids[1] as number })
    const [again] = (await second.waitFor('publish', 1)) as IPublishPacket[]
    assert.equal(String(again?.payload), 'c')
    assert.equal(again?.dup, true)
    assert.equal(again?.messageId, c?.messageId)
    second.send({ cmd: 'puback', messageId: again?.messageId as number })
    await eventually('the session queue is empty', async () => (await queueMessages('mqtt-session/st32-rel2')) === 0)
  })
})
