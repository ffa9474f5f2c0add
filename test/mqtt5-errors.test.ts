// MQTT 5 error paths on raw sockets: each breaks one rule, is closed with the spec's reason code
// (DISCONNECT after CONNACK, a CONNACK refusal on the CONNECT itself), and the broker goes on serving
// everyone else.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IConnackPacket, IDisconnectPacket, IPublishPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'
import { rawConnect5, rawOpen, wire, type RawPeer } from './support/raw-mqtt.ts'
import { holdsFor } from './support/wait.ts'
import { adminFetch } from './support/admin-http.ts'

const P = {
  sessionExpiry: 0x11,
  receiveMaximum: 0x21,
  maximumPacketSize: 0x27,
  topicAlias: 0x23,
  contentType: 0x03,
  messageExpiry: 0x02,
  subscriptionId: 0x0b,
  userProperty: 0x26
}
const MAX_PACKET_BYTES = 4096
const RECEIVE_MAXIMUM = 3
const TOPIC_ALIAS_MAXIMUM = 5

async function serverDisconnect(peer: RawPeer): Promise<IDisconnectPacket> {
  const d = await peer.waitFor<IDisconnectPacket>('server DISCONNECT', p => p.cmd === 'disconnect')
  await peer.waitClosed()
  return d
}

describe('MQTT 5 protocol errors close that connection with the right reason code', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let port: number
  before(async () => {
    broker = await startTestBroker(c => {
      c.mqtt.maxPacketBytes = MAX_PACKET_BYTES
      c.mqtt.receiveMaximum = RECEIVE_MAXIMUM
      c.mqtt.topicAliasMaximum = TOPIC_ALIAS_MAXIMUM
    })
    port = broker.node.ports.mqtt
  })
  after(async () => {
    await broker.close()
  })

  /** A healthy MQTT 5 pair still gets a QoS 1 message through: one bad connection cost only itself. */
  async function stillServing(): Promise<void> {
    const sub = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'healthy-sub' })
    const pub = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'healthy-pub' })
    const got = collector(sub)
    await sub.subscribeAsync('healthy', { qos: 1 })
    await pub.publishAsync('healthy', 'yes', { qos: 1 })
    assert.equal((await got.waitFor(1))[0]?.payload, 'yes')
    await end(sub, pub)
  }

  test('a duplicate property in CONNECT: CONNACK 0x82 and close [§3.1.2.11.2] [MQTT-3.1.4-1]', async () => {
    const peer = await rawOpen(port)
    peer.write(wire.connect5('dup-connect', wire.props(wire.prop.u32(P.sessionExpiry, 10), wire.prop.u32(P.sessionExpiry, 20))))
    const connack = await peer.waitFor<IConnackPacket>('CONNACK refusal', p => p.cmd === 'connack')
    assert.equal(connack.reasonCode, 0x82)
    assert.equal(connack.sessionPresent, false) // [MQTT-3.2.2-6]
    await peer.waitClosed()
    await stillServing()
  })

  test('Receive Maximum 0 or Maximum Packet Size 0 in CONNECT: CONNACK 0x82 [§3.1.2.11.3] [§3.1.2.11.4]', async () => {
    for (const [name, prop] of [
      ['Receive Maximum', wire.prop.u16(P.receiveMaximum, 0)],
      ['Maximum Packet Size', wire.prop.u32(P.maximumPacketSize, 0)]
    ] as const) {
      const peer = await rawOpen(port)
      peer.write(wire.connect5(`zero-${name.length}`, wire.props(prop)))
      const connack = await peer.waitFor<IConnackPacket>(`CONNACK refusing ${name} 0`, p => p.cmd === 'connack')
      assert.equal(connack.reasonCode, 0x82, name)
      await peer.waitClosed()
    }
    await stillServing()
  })

  test('an unsupported protocol level: CONNACK return code 1 (as 3.1.1 has it) and close [MQTT-3.1.2-2 (3.1.1)] [MQTT-3.1.2-2]', async () => {
    const peer = await rawOpen(port, 4)
    peer.write(wire.packet(0x10, wire.utf8('MQTT'), Buffer.from([6, 0x02]), wire.u16(30), wire.utf8('level-6')))
    const connack = await peer.waitFor<IConnackPacket>('CONNACK', p => p.cmd === 'connack')
    assert.equal(connack.returnCode, 1)
    await peer.waitClosed()
  })

  test('a malformed MQTT 5 CONNECT (reserved flag set): CONNACK 0x81; a malformed 3.1.1 one is closed without CONNACK [MQTT-3.1.2-3] [MQTT-3.1.4-1]', async () => {
    const five = await rawOpen(port)
    five.write(wire.packet(0x10, wire.utf8('MQTT'), Buffer.from([5, 0x03]), wire.u16(30), wire.props(), wire.utf8('reserved-5')))
    assert.equal((await five.waitFor<IConnackPacket>('CONNACK', p => p.cmd === 'connack')).reasonCode, 0x81)
    await five.waitClosed()
    const four = await rawOpen(port, 4)
    four.write(wire.packet(0x10, wire.utf8('MQTT'), Buffer.from([4, 0x03]), wire.u16(30), wire.utf8('reserved-4')))
    await four.waitClosed()
    assert.equal(four.bytes(), 0) // 3.1.1 has no return code for a malformed CONNECT
    await stillServing()
  })

  test('a duplicate property in PUBLISH: DISCONNECT 0x82, nothing routed [§3.3.2.3]', async () => {
    const watcher = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'dup-watch' })
    const got = collector(watcher)
    await watcher.subscribeAsync('dup/#', { qos: 1 })
    const peer = await rawConnect5(port, { clientId: 'dup-publish' })
    peer.write(wire.publish5('dup/x', 'twice', wire.props(wire.prop.utf8(P.contentType, 'a'), wire.prop.utf8(P.contentType, 'b')), 1))
    assert.equal((await serverDisconnect(peer)).reasonCode, 0x82)
    assert.equal(
      peer.packets.some(p => p.cmd === 'puback'),
      false
    )
    await holdsFor('the bad publish was not routed', () => got.messages.length === 0, 200)
    await end(watcher)
    await stillServing()
  })

  test('repeated User Properties are not duplicates: taken, delivered in order [MQTT-3.3.2-17] [MQTT-3.3.2-18]', async () => {
    const watcher = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'up-watch' })
    const got = collector(watcher)
    await watcher.subscribeAsync('up/#', { qos: 1 })
    const peer = await rawConnect5(port, { clientId: 'up-publish' })
    const up = (k: string, v: string): Buffer => Buffer.concat([Buffer.from([P.userProperty]), wire.utf8(k), wire.utf8(v)])
    peer.write(wire.publish5('up/x', 'pairs', wire.props(up('k', '2'), up('a', 'x'), up('k', '1')), 1, 9))
    await peer.waitFor('PUBACK', p => p.cmd === 'puback')
    const [m] = await got.waitFor(1)
    assert.deepEqual(Object.entries({ ...(m?.properties?.userProperties as object) }), [
      ['k', ['2', '1']],
      ['a', 'x']
    ])
    peer.destroy()
    await end(watcher)
  })

  test('Topic Alias 0: DISCONNECT 0x94 [MQTT-3.3.2-8]', async () => {
    const peer = await rawConnect5(port, { clientId: 'alias-0' })
    assert.equal(peer.connack.properties?.topicAliasMaximum, TOPIC_ALIAS_MAXIMUM)
    peer.write(wire.publish5('alias/x', 'a', wire.props(wire.prop.u16(P.topicAlias, 0))))
    assert.equal((await serverDisconnect(peer)).reasonCode, 0x94)
    await stillServing()
  })

  test('a Topic Alias above the Topic Alias Maximum: DISCONNECT 0x94 [MQTT-3.3.2-9] [MQTT-3.2.2-17]', async () => {
    const peer = await rawConnect5(port, { clientId: 'alias-max' })
    peer.write(wire.publish5('alias/x', 'a', wire.props(wire.prop.u16(P.topicAlias, TOPIC_ALIAS_MAXIMUM + 1))))
    assert.equal((await serverDisconnect(peer)).reasonCode, 0x94)
    await stillServing()
  })

  test('Topic Aliases 1..maximum are accepted, and do not carry over to the next connection [MQTT-3.3.2-12] [MQTT-3.3.2-7]', async () => {
    const watcher = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'alias-watch' })
    const got = collector(watcher)
    await watcher.subscribeAsync('alias/#', { qos: 1 })
    const peer = await rawConnect5(port, { clientId: 'alias-ok' })
    peer.write(wire.publish5('alias/set', 'set', wire.props(wire.prop.u16(P.topicAlias, TOPIC_ALIAS_MAXIMUM)), 1, 1))
    peer.write(wire.publish5('', 'used', wire.props(wire.prop.u16(P.topicAlias, TOPIC_ALIAS_MAXIMUM)), 1, 2))
    await got.waitFor(2)
    assert.deepEqual(
      got.messages.map(m => [m.topic, m.payload]),
      [
        ['alias/set', 'set'],
        ['alias/set', 'used']
      ]
    )
    peer.destroy()
    await peer.closed
    const next = await rawConnect5(port, { clientId: 'alias-ok' })
    next.write(wire.publish5('', 'stale alias', wire.props(wire.prop.u16(P.topicAlias, TOPIC_ALIAS_MAXIMUM)), 1, 3))
    assert.equal((await serverDisconnect(next)).reasonCode, 0x82) // an alias never set on this connection
    await holdsFor('nothing routed under the stale alias', () => got.messages.length === 2, 200)
    await end(watcher)
  })

  test('a packet over Maximum Packet Size: DISCONNECT 0x95 from its fixed header, before the body [MQTT-3.2.2-15]', async () => {
    const peer = await rawConnect5(port, { clientId: 'oversize' })
    assert.equal(peer.connack.properties?.maximumPacketSize, MAX_PACKET_BYTES)
    peer.write(wire.header(0x32, MAX_PACKET_BYTES)) // header bytes + body > the maximum; no body follows
    assert.equal((await serverDisconnect(peer)).reasonCode, 0x95)
    await stillServing()
  })

  test('a packet of exactly Maximum Packet Size is taken', async () => {
    const peer = await rawConnect5(port, { clientId: 'exact-size' })
    const topic = 'size/x'
    const fixed = 1 + 2 // first byte + a 2-byte Remaining Length
    const overhead = fixed + 2 + topic.length + 2 + 1 // topic, packet id, empty properties
    const packet = wire.publish5(topic, Buffer.alloc(MAX_PACKET_BYTES - overhead, 0x61), wire.props(), 1, 4)
    assert.equal(packet.length, MAX_PACKET_BYTES)
    peer.write(packet)
    await peer.waitFor('PUBACK', p => p.cmd === 'puback')
    assert.equal(peer.isClosed(), false)
    peer.destroy()
  })

  test('more QoS 1 PUBLISHes unacknowledged than Receive Maximum: DISCONNECT 0x93 [MQTT-3.3.4-7]', async () => {
    // A durable subscriber, so each PUBACK waits for its commit and the publishes pile up unacknowledged.
    const sub = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'rm-sub', clean: false, properties: { sessionExpiryInterval: 60 } })
    await sub.subscribeAsync('rm/#', { qos: 1 })
    const peer = await rawConnect5(port, { clientId: 'rm-pub' })
    assert.equal(peer.connack.properties?.receiveMaximum, RECEIVE_MAXIMUM)
    peer.write(Buffer.concat(Array.from({ length: RECEIVE_MAXIMUM + 1 }, (_, i) => wire.publish5('rm/x', `m${i}`, wire.props(), 1, i + 1))))
    assert.equal((await serverDisconnect(peer)).reasonCode, 0x93)
    await sub.endAsync(false, { reasonCode: 0, properties: { sessionExpiryInterval: 0 } })
    await stillServing()
  })

  test('Receive Maximum PUBLISHes in flight are fine, and QoS 2 ones count until PUBCOMP [MQTT-3.3.4-7] [MQTT-4.9.0-2]', async () => {
    const peer = await rawConnect5(port, { clientId: 'rm-qos2' })
    // RECEIVE_MAXIMUM QoS 2 publishes, each answered by PUBREC; not released yet, so all still count.
    peer.write(Buffer.concat(Array.from({ length: RECEIVE_MAXIMUM }, (_, i) => wire.publish5('rm2/x', `m${i}`, wire.props(), 2, i + 1))))
    await peer.waitFor('every PUBREC', () => peer.packets.filter(p => p.cmd === 'pubrec').length === RECEIVE_MAXIMUM)
    assert.equal(peer.isClosed(), false)
    // Releasing one frees one place.
    peer.send({ cmd: 'pubrel', messageId: 1 })
    await peer.waitFor('PUBCOMP', p => p.cmd === 'pubcomp')
    peer.write(wire.publish5('rm2/x', 'fits', wire.props(), 1, 10))
    await peer.waitFor('PUBACK', p => p.cmd === 'puback')
    // One more with none released: over the maximum.
    peer.write(wire.publish5('rm2/x', 'over', wire.props(), 2, 11))
    peer.write(wire.publish5('rm2/x', 'over', wire.props(), 2, 12))
    assert.equal((await serverDisconnect(peer)).reasonCode, 0x93)
  })

  test('a Subscription Identifier of 0: DISCONNECT 0x82 [§3.8.2.1.2]', async () => {
    const peer = await rawConnect5(port, { clientId: 'subid-0' })
    peer.write(wire.packet(0x82, wire.u16(1), wire.props(wire.prop.varint(P.subscriptionId, 0)), wire.utf8('subid/#'), Buffer.from([1])))
    assert.equal((await serverDisconnect(peer)).reasonCode, 0x82)
    assert.equal(
      peer.packets.some(p => p.cmd === 'suback'),
      false
    )
    await stillServing()
  })

  test('a Subscription Identifier in a PUBLISH from a client: DISCONNECT 0x82 [MQTT-3.3.4-6]', async () => {
    const peer = await rawConnect5(port, { clientId: 'subid-pub' })
    peer.write(wire.publish5('subid/x', 'a', wire.props(wire.prop.varint(P.subscriptionId, 3)), 1))
    assert.equal((await serverDisconnect(peer)).reasonCode, 0x82)
  })

  test('a first packet other than CONNECT: closed without any packet [MQTT-3.1.0-1] [MQTT-3.14.0-1]', async () => {
    for (const first of [
      wire.publish5('early', 'x'),
      Buffer.from([0xc0, 0x00]),
      wire.packet(0x82, wire.u16(1), wire.props(), wire.utf8('a'), Buffer.from([0]))
    ]) {
      const peer = await rawOpen(port)
      peer.write(first)
      await peer.waitClosed()
      assert.equal(peer.bytes(), 0, `nothing sent back for first byte 0x${(first[0] as number).toString(16)}`)
    }
    await stillServing()
  })

  test('a second CONNECT: DISCONNECT 0x82 [MQTT-3.1.0-2]', async () => {
    const peer = await rawConnect5(port, { clientId: 'twice' })
    peer.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'twice', keepalive: 30 })
    assert.equal((await serverDisconnect(peer)).reasonCode, 0x82)
    await stillServing()
  })

  test('a DISCONNECT 0x82 carries a Reason String and no Session Expiry Interval [MQTT-3.14.2-2]', async () => {
    const peer = await rawConnect5(port, { clientId: 'reason-string', properties: { sessionExpiryInterval: 30 } })
    peer.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'reason-string', keepalive: 30 })
    const d = await serverDisconnect(peer)
    assert.equal(typeof d.properties?.reasonString, 'string')
    assert.equal(d.properties?.sessionExpiryInterval, undefined)
  })

  test("no Reason String where it would break the client's Maximum Packet Size: DISCONNECT and a refusing CONNACK [MQTT-3.14.2-3] [MQTT-3.2.2-19]", async () => {
    const peer = await rawConnect5(port, { clientId: 'small-max', properties: { maximumPacketSize: 30 } })
    const connackBytes = peer.bytes()
    peer.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'small-max', keepalive: 30 })
    const d = await serverDisconnect(peer)
    assert.equal(d.reasonCode, 0x82)
    assert.equal(d.properties?.reasonString, undefined)
    assert.ok(peer.bytes() - connackBytes <= 30, `DISCONNECT of ${peer.bytes() - connackBytes} bytes`)
    const refused = await rawConnect5(port, { clientId: 'small-max-2', properties: { maximumPacketSize: 16, authenticationMethod: 'NOT-A-METHOD' } })
    assert.equal(refused.connack.reasonCode, 0x8c)
    assert.ok(refused.bytes() <= 16, `CONNACK of ${refused.bytes()} bytes`)
    await refused.waitClosed()
  })

  test('reserved flags in a SUBSCRIBE fixed header: DISCONNECT 0x81 [MQTT-3.8.1-1]', async () => {
    const peer = await rawConnect5(port, { clientId: 'bad-flags' })
    peer.write(wire.packet(0x80, wire.u16(1), wire.props(), wire.utf8('a/#'), Buffer.from([1])))
    assert.equal((await serverDisconnect(peer)).reasonCode, 0x81)
    await stillServing()
  })

  test('a publish to a topic that is not a valid name: DISCONNECT 0x90 [MQTT-3.3.2-2]', async () => {
    const peer = await rawConnect5(port, { clientId: 'wild-topic' })
    peer.write(wire.publish5('a/+/b', 'x', wire.props(), 1))
    assert.equal((await serverDisconnect(peer)).reasonCode, 0x90)
    await stillServing()
  })

  test('the broker counts and logs each closed connection; a healthy client saw none of it', async () => {
    const c = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'observer' })
    const peer = await rawConnect5(port, { clientId: 'one-more-bad' })
    peer.write(wire.publish5('x', 'x', wire.props(wire.prop.u16(P.topicAlias, 0))))
    await serverDisconnect(peer)
    assert.equal(c.connected, true)
    const metrics = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
    assert.match(metrics, /wharf_mqtt_client_errors_total [1-9]/)
    assert.ok(broker.logs.some(l => l.msg === 'mqtt connection closed on error'))
    await end(c)
  })
})

// Kept apart from the broker above: the publish checks must see a subscriber on a durable queue.
describe('PUBLISH checks after CONNACK', { timeout: 30_000 }, () => {
  test('QoS 2 resends before PUBREL are acknowledged and not routed again [MQTT-4.3.3-10]', async () => {
    const broker = await startTestBroker()
    try {
      const watcher = await connect(broker.mqttUrl, { protocolVersion: 5, clientId: 'q2-watch' })
      const got = collector(watcher)
      await watcher.subscribeAsync('q2/#', { qos: 2 })
      const peer = await rawConnect5(broker.node.ports.mqtt, { clientId: 'q2-pub' })
      const publish: IPublishPacket = { cmd: 'publish', topic: 'q2/x', payload: Buffer.from('once'), qos: 2, messageId: 5, retain: false, dup: false }
      peer.send(publish)
      await peer.waitFor('PUBREC', p => p.cmd === 'pubrec')
      peer.send({ ...publish, dup: true })
      await peer.waitFor('second PUBREC', () => peer.packets.filter(p => p.cmd === 'pubrec').length === 2)
      peer.send({ cmd: 'pubrel', messageId: 5 })
      await peer.waitFor('PUBCOMP', p => p.cmd === 'pubcomp')
      await got.waitFor(1)
      await holdsFor('one delivery only', () => got.messages.length === 1, 200)
      peer.destroy()
      await end(watcher)
    } finally {
      await broker.close()
    }
  })
})
