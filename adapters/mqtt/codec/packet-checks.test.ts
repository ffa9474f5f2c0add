// Error paths of the per-packet checks and of the MQTT 5 property sections, each under the spec
// statement (or section) it enforces, on hand-built packets.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReasonCode } from './reason-codes.ts'
import { afterConnect, errorAfterConnect, packet, prop, props, readChunks, str } from './test-wire.ts'

const MALFORMED = ReasonCode.MalformedPacket
const PROTOCOL = ReasonCode.ProtocolError

function expectError(err: { reasonCode: number; message: string }, reasonCode: number, message: RegExp): void {
  assert.equal(err.reasonCode, reasonCode, err.message)
  assert.match(err.message, message)
}

// A v5 PUBLISH QoS 0 on topic 't' with these properties.
const publish5 = (...p: Buffer[]): Buffer => packet(0x30, str('t'), props(...p), Buffer.from('x'))
// A v5 CONNECT with these CONNECT properties (and a will with these Will Properties, if given).
function connect5(connectProps: Buffer[], willProps?: Buffer[]): Buffer {
  const flags = willProps === undefined ? 0x02 : 0x06
  const will = willProps === undefined ? [] : [props(...willProps), str('w/t'), str('bye')]
  return packet(0x10, str('MQTT'), [5, flags, 0, 60], props(...connectProps), str('c1'), ...will)
}

// --- Duplicates: "It is a Protocol Error to include <property> more than once" (each packet's section)

test('a duplicate single-use property is a Protocol Error, named with its packet', () => {
  expectError(errorAfterConnect(5, publish5(prop.u16(0x23, 1), prop.u16(0x23, 2))), PROTOCOL, /^PUBLISH: duplicate property 'Topic Alias' \(0x23\) in PUBLISH$/)
  expectError(
    errorAfterConnect(5, publish5(prop.str(0x03, 'a'), prop.u32(0x02, 1), prop.str(0x03, 'b'))),
    PROTOCOL,
    /duplicate property 'Content Type' \(0x03\) in PUBLISH/
  )
  expectError(
    errorAfterConnect(5, packet(0x40, [0, 1, 0x10], props(prop.str(0x1f, 'a'), prop.str(0x1f, 'b')))),
    PROTOCOL,
    /duplicate property 'Reason String' \(0x1f\) in PUBACK/
  )
  expectError(
    errorAfterConnect(5, packet(0xe0, [0x00], props(prop.u32(0x11, 1), prop.u32(0x11, 1)))),
    PROTOCOL,
    /duplicate property 'Session Expiry Interval' \(0x11\) in DISCONNECT/
  )
  expectError(
    errorAfterConnect(5, packet(0xf0, [0x18], props(prop.str(0x15, 'm'), prop.str(0x15, 'm')))),
    PROTOCOL,
    /duplicate property 'Authentication Method' \(0x15\) in AUTH/
  )
  // §3.8.2.1.2: "It is a Protocol Error to include the Subscription Identifier more than once".
  expectError(
    errorAfterConnect(5, packet(0x82, [0, 1], props(prop.varint(0x0b, 1), prop.varint(0x0b, 2)), str('a'), [0])),
    PROTOCOL,
    /duplicate property 'Subscription Identifier' \(0x0b\) in SUBSCRIBE/
  )
})

test('a duplicate in CONNECT or its Will Properties is a Protocol Error', () => {
  expectError(readChunks([connect5([prop.u16(0x21, 5), prop.u16(0x21, 5)])]).errors[0]!, PROTOCOL, /duplicate property 'Receive Maximum' \(0x21\) in CONNECT$/)
  expectError(
    readChunks([connect5([], [prop.u32(0x18, 1), prop.u32(0x18, 2)])]).errors[0]!,
    PROTOCOL,
    /duplicate property 'Will Delay Interval' \(0x18\) in CONNECT Will Properties/
  )
})

test('User Property may repeat anywhere; Subscription Identifier may repeat in a PUBLISH from a server', () => {
  const got = afterConnect(5, publish5(prop.user('a', '1'), prop.user('a', '2')))
  assert.deepEqual(got.errors, [])
  const connack = packet(0x20, [0, 0], props())
  const fromServer = readChunks([connack, publish5(prop.varint(0x0b, 1), prop.varint(0x0b, 2))], { role: 'client', protocolVersion: 5 })
  assert.deepEqual(fromServer.errors, [])
  const p = fromServer.packets[1]
  assert.ok(p?.cmd === 'publish')
  assert.deepEqual(p.properties?.subscriptionIdentifier, [1, 2])
})

// --- Identifiers: §2.2.2.2 "A Control Packet which contains an Identifier which is not valid for
// its packet type ... is a Malformed Packet" (0x81, not 0x82).

test('§2.2.2.2 a property not valid for its packet type is Malformed', () => {
  expectError(errorAfterConnect(5, publish5(prop.u32(0x11, 10))), MALFORMED, /property 'Session Expiry Interval' \(0x11\) not allowed in PUBLISH/)
  expectError(readChunks([connect5([prop.u16(0x23, 1)])]).errors[0]!, MALFORMED, /'Topic Alias' \(0x23\) not allowed in CONNECT/)
  expectError(readChunks([connect5([prop.u32(0x18, 1)])]).errors[0]!, MALFORMED, /'Will Delay Interval' \(0x18\) not allowed in CONNECT$/)
  expectError(
    readChunks([connect5([], [prop.u32(0x11, 1)])]).errors[0]!,
    MALFORMED,
    /'Session Expiry Interval' \(0x11\) not allowed in CONNECT Will Properties/
  )
  expectError(
    errorAfterConnect(5, packet(0x82, [0, 1], props(prop.str(0x03, 'x')), str('a'), [0])),
    MALFORMED,
    /'Content Type' \(0x03\) not allowed in SUBSCRIBE/
  )
  expectError(
    errorAfterConnect(5, packet(0xa2, [0, 1], props(prop.str(0x1f, 'x')), str('a'))),
    MALFORMED,
    /'Reason String' \(0x1f\) not allowed in UNSUBSCRIBE/
  )
  expectError(errorAfterConnect(5, packet(0x62, [0, 1, 0], props(prop.u16(0x23, 1)))), MALFORMED, /'Topic Alias' \(0x23\) not allowed in PUBREL/)
})

test('§2.2.2.2 an unknown property identifier is Malformed', () => {
  expectError(errorAfterConnect(5, publish5(Buffer.from([0x50, 0]))), MALFORMED, /unknown property identifier 0x50 in PUBLISH/)
  expectError(errorAfterConnect(5, publish5(Buffer.from([0x00]))), MALFORMED, /unknown property identifier 0x00/)
  expectError(errorAfterConnect(5, publish5(Buffer.from([0x80, 0x01]))), MALFORMED, /unknown property identifier 0x80/)
})

test('a property section or value that runs past its bounds is Malformed', () => {
  // Property Length 9 in a packet with 2 bytes left.
  expectError(errorAfterConnect(5, packet(0x30, str('t'), [9, 0x01, 0x00])), MALFORMED, /Property Length 9 runs past the end of the packet/)
  // A Content Type whose string length runs out of the property section into the payload.
  expectError(errorAfterConnect(5, packet(0x30, str('t'), [3, 0x03, 0x00, 0x05], Buffer.from('abcdefgh'))), MALFORMED, /Content Type runs past the end/)
  // A v5 PUBLISH must carry a Property Length [MQTT-2.2.2-1].
  expectError(errorAfterConnect(5, packet(0x30, str('t'))), MALFORMED, /Property Length runs past the end/)
})

// --- Values

test('§3.8.2.1.2 a Subscription Identifier of 0 in SUBSCRIBE is a Protocol Error', () => {
  expectError(
    errorAfterConnect(5, packet(0x82, [0, 1], props(prop.varint(0x0b, 0)), str('a'), [0])),
    PROTOCOL,
    /'Subscription Identifier' \(0x0b\) in SUBSCRIBE has value 0; allowed 1\.\.268435455/
  )
})

test('[MQTT-3.3.4-6] a PUBLISH from a client must not carry a Subscription Identifier', () => {
  expectError(errorAfterConnect(5, publish5(prop.varint(0x0b, 3))), PROTOCOL, /Subscription Identifier.*sent by a client \[MQTT-3.3.4-6\]/)
})

test('[MQTT-3.3.2-8] a Topic Alias of 0 is 0x94 Topic Alias invalid', () => {
  expectError(errorAfterConnect(5, publish5(prop.u16(0x23, 0))), ReasonCode.TopicAliasInvalid, /'Topic Alias' \(0x23\) in PUBLISH has value 0/)
})

test('§3.1.2.11 Receive Maximum 0, Maximum Packet Size 0, and a 0/1 property of 2 are Protocol Errors', () => {
  expectError(readChunks([connect5([prop.u16(0x21, 0)])]).errors[0]!, PROTOCOL, /'Receive Maximum' \(0x21\) in CONNECT has value 0/)
  expectError(readChunks([connect5([prop.u32(0x27, 0)])]).errors[0]!, PROTOCOL, /'Maximum Packet Size' \(0x27\) in CONNECT has value 0/)
  expectError(
    readChunks([connect5([prop.byte(0x17, 2)])]).errors[0]!,
    PROTOCOL,
    /'Request Problem Information' \(0x17\) in CONNECT has value 2; allowed 0\.\.1/
  )
  expectError(errorAfterConnect(5, publish5(prop.byte(0x01, 2))), PROTOCOL, /'Payload Format Indicator'/)
})

test('[MQTT-3.14.2-2] a server DISCONNECT must not carry Session Expiry Interval', () => {
  const got = readChunks([packet(0x20, [0, 0], props()), packet(0xe0, [0x8b], props(prop.u32(0x11, 5)))], { role: 'client', protocolVersion: 5 })
  expectError(got.errors[0]!, PROTOCOL, /Session Expiry Interval.*\[MQTT-3.14.2-2\]/)
})

// --- User Properties in wire order [MQTT-3.3.2-18]

test('User Properties keep their wire order across names (a=1, b=2, a=3)', () => {
  const order = [prop.user('a', '1'), prop.user('b', '2'), prop.user('a', '3')]
  const expected = [
    ['a', '1'],
    ['b', '2'],
    ['a', '3']
  ]
  const got = afterConnect(
    5,
    publish5(...order),
    packet(0x40, [0, 1, 0x00], props(...order)),
    packet(0x82, [0, 2], props(...order), str('f'), [1]),
    packet(0xa2, [0, 3], props(...order), str('f')),
    packet(0xf0, [0x18], props(prop.str(0x15, 'm'), ...order)),
    packet(0xe0, [0x00], props(...order))
  )
  assert.deepEqual(got.errors, [])
  assert.deepEqual(
    got.packets.map(p => p.cmd),
    ['publish', 'puback', 'subscribe', 'unsubscribe', 'auth', 'disconnect']
  )
  for (const p of got.packets) assert.deepEqual(p.userPropertiesOrdered, expected, p.cmd)
  const publish = got.packets[0]
  assert.ok(publish?.cmd === 'publish')
  assert.deepEqual({ ...publish.properties?.userProperties }, { a: ['1', '3'], b: '2' }, "mqtt-packet's grouped form is kept too")
})

test('CONNECT and Will User Properties are both kept in wire order', () => {
  const got = readChunks([
    connect5([prop.user('x', '1'), prop.user('y', '2'), prop.user('x', '3')], [prop.user('w', 'b'), prop.user('v', 'a'), prop.user('w', 'a')])
  ])
  const c = got.packets[0]
  assert.ok(c?.cmd === 'connect')
  assert.deepEqual(c.userPropertiesOrdered, [
    ['x', '1'],
    ['y', '2'],
    ['x', '3']
  ])
  assert.deepEqual(c.willUserPropertiesOrdered, [
    ['w', 'b'],
    ['v', 'a'],
    ['w', 'a']
  ])
})

test('a packet without User Properties has no userPropertiesOrdered field', () => {
  const got = afterConnect(5, publish5(prop.u32(0x02, 5)), packet(0xe0, []))
  assert.equal('userPropertiesOrdered' in got.packets[0]!, false)
  assert.equal('userPropertiesOrdered' in got.packets[1]!, false)
})

// --- UTF-8 [MQTT-1.5.4-1] [MQTT-1.5.4-2]

test('[MQTT-1.5.4-1] ill-formed UTF-8 in a string is Malformed; so is an encoded surrogate', () => {
  expectError(errorAfterConnect(4, packet(0x30, str([0x61, 0xc3, 0x28]))), MALFORMED, /PUBLISH: Topic Name is not well-formed UTF-8/)
  expectError(errorAfterConnect(4, packet(0x30, str([0xed, 0xa0, 0x80]))), MALFORMED, /Topic Name is not well-formed UTF-8/)
  expectError(errorAfterConnect(5, publish5(Buffer.concat([Buffer.from([0x26]), str([0xff]), str('v')]))), MALFORMED, /User Property name is not well-formed/)
  expectError(errorAfterConnect(4, packet(0x82, [0, 1], str([0xc0, 0xaf]), [0])), MALFORMED, /Topic Filter is not well-formed/)
  expectError(readChunks([packet(0x10, str('MQTT'), [4, 0x02, 0, 0], str([0xe2, 0x82]))]).errors[0]!, MALFORMED, /Client Identifier is not well-formed/)
})

test('[MQTT-1.5.4-2] U+0000 in a string is Malformed', () => {
  expectError(errorAfterConnect(5, packet(0x30, str([0x61, 0x00, 0x62]), props())), MALFORMED, /Topic Name .*U\+0000/)
  expectError(errorAfterConnect(5, packet(0x30, str('é/\u0000'), props())), MALFORMED, /Topic Name/)
})

test('well-formed multi-byte UTF-8 passes', () => {
  const got = afterConnect(5, packet(0x30, str('ü/€/𝄞'), props(prop.str(0x03, 'täxt')), Buffer.from('x')))
  assert.deepEqual(got.errors, [])
  const p = got.packets[0]
  assert.ok(p?.cmd === 'publish')
  assert.equal(p.topic, 'ü/€/𝄞')
  assert.equal(p.properties?.contentType, 'täxt')
})

// --- CONNECT

test('[MQTT-3.1.2-1] [MQTT-3.1.2-2] an unknown protocol name or level is 0x84 Unsupported Protocol Version', () => {
  for (const [name, level] of [
    ['MQTX', 4],
    ['MQTT', 6],
    ['MQTT', 3],
    ['MQIsdp', 4]
  ] as const) {
    const { errors, reader } = readChunks([packet(0x10, str(name), [level, 0x02, 0, 0], str('c'))])
    expectError(errors[0]!, ReasonCode.UnsupportedProtocolVersion, new RegExp(`protocol '${name}' level ${level} is not supported`))
    assert.equal(reader.protocolVersion, 0, 'no version to answer in: the engine uses the 3.1.1 CONNACK')
  }
  const bridge = readChunks([packet(0x10, str('MQTT'), [0x84, 0x02, 0, 0], str('c'))])
  assert.deepEqual(bridge.errors, [])
  assert.equal(bridge.reader.protocolVersion, 4)
})

test('[MQTT-3.1.2-3] the reserved Connect Flag is Malformed', () => {
  expectError(
    readChunks([packet(0x10, str('MQTT'), [5, 0x03, 0, 0], props(), str('c'))]).errors[0]!,
    MALFORMED,
    /reserved Connect Flag bit 0 is set \[MQTT-3.1.2-3\]/
  )
})

test('[MQTT-3.1.2-11] [MQTT-3.1.2-12] [MQTT-3.1.2-13] Will QoS and Will Retain', () => {
  expectError(readChunks([packet(0x10, str('MQTT'), [4, 0x1e, 0, 0], str('c'), str('t'), str('m'))]).errors[0]!, MALFORMED, /Will QoS 3 \[MQTT-3.1.2-12\]/)
  expectError(readChunks([packet(0x10, str('MQTT'), [4, 0x22, 0, 0], str('c'))]).errors[0]!, MALFORMED, /without the Will Flag/)
  expectError(readChunks([packet(0x10, str('MQTT'), [4, 0x0a, 0, 0], str('c'))]).errors[0]!, MALFORMED, /without the Will Flag/)
})

test('3.1.1 [MQTT-3.1.2-22] a Password without a User Name is Malformed; MQTT 5 allows it', () => {
  expectError(readChunks([packet(0x10, str('MQTT'), [4, 0x42, 0, 0], str('c'), str('pw'))]).errors[0]!, MALFORMED, /\[MQTT-3.1.2-22\]/)
  const five = readChunks([packet(0x10, str('MQTT'), [5, 0x42, 0, 0], props(), str('c'), str('pw'))])
  assert.deepEqual(five.errors, [])
  assert.deepEqual((five.packets[0] as { password?: Buffer }).password, Buffer.from('pw'))
})

test('a CONNECT with bytes after its last field, or missing a flagged field, is Malformed', () => {
  expectError(readChunks([packet(0x10, str('MQTT'), [4, 0x02, 0, 0], str('c'), [1, 2])]).errors[0]!, MALFORMED, /2 bytes after the last field/)
  expectError(readChunks([packet(0x10, str('MQTT'), [4, 0x82, 0, 0], str('c'))]).errors[0]!, MALFORMED, /User Name runs past the end/)
})

// --- PUBLISH and acks

test('[MQTT-2.2.1-3] a QoS 1 PUBLISH, SUBSCRIBE or UNSUBSCRIBE with Packet Identifier 0 is a Protocol Error', () => {
  expectError(errorAfterConnect(4, packet(0x32, str('t'), [0, 0])), PROTOCOL, /PUBLISH: Packet Identifier 0/)
  expectError(errorAfterConnect(4, packet(0x82, [0, 0], str('t'), [0])), PROTOCOL, /SUBSCRIBE: Packet Identifier 0/)
  expectError(errorAfterConnect(4, packet(0xa2, [0, 0], str('t'))), PROTOCOL, /UNSUBSCRIBE: Packet Identifier 0/)
})

test('MQTT 5 acks: Remaining Length 2 means Success, 3 a Reason Code without properties', () => {
  const got = afterConnect(
    5,
    packet(0x40, [0, 1]),
    packet(0x50, [0, 2, 0x10]),
    packet(0x62, [0, 3, 0x92]),
    packet(0x70, [0, 4, 0x00], props(prop.str(0x1f, 'r')))
  )
  assert.deepEqual(got.errors, [])
  assert.deepEqual(
    got.packets.map(p => [p.cmd, p.messageId, (p as { reasonCode?: number }).reasonCode]),
    [
      ['puback', 1, 0],
      ['pubrec', 2, 0x10],
      ['pubrel', 3, 0x92],
      ['pubcomp', 4, 0]
    ]
  )
  assert.deepEqual(got.packets[3] && (got.packets[3] as { properties?: unknown }).properties, { reasonString: 'r' })
})

test('[MQTT-3.4.2-1] [MQTT-3.6.2-1] an ack with a Reason Code its type does not have is Malformed', () => {
  expectError(errorAfterConnect(5, packet(0x40, [0, 1, 0x92])), MALFORMED, /Reason Code 0x92 is not a PUBACK Reason Code \[MQTT-3.4.2-1\]/)
  expectError(errorAfterConnect(5, packet(0x62, [0, 1, 0x10])), MALFORMED, /not a PUBREL Reason Code \[MQTT-3.6.2-1\]/)
})

test('an ack with bytes after its properties (5) or a Remaining Length other than 2 (3.1.1) is Malformed', () => {
  expectError(errorAfterConnect(5, packet(0x40, [0, 1, 0], props(), [7])), MALFORMED, /1 bytes after the last field/)
  expectError(errorAfterConnect(4, packet(0x40, [0, 1, 0])), MALFORMED, /PUBACK: 1 bytes after the last field/)
})

// --- SUBSCRIBE, UNSUBSCRIBE

test('[MQTT-3.8.3-2] [MQTT-3.10.3-2] a SUBSCRIBE or UNSUBSCRIBE without a Topic Filter is a Protocol Error', () => {
  expectError(errorAfterConnect(5, packet(0x82, [0, 1], props())), PROTOCOL, /SUBSCRIBE: no Topic Filter \[MQTT-3.8.3-2\]/)
  expectError(errorAfterConnect(4, packet(0x82, [0, 1])), PROTOCOL, /SUBSCRIBE: no Topic Filter/)
  expectError(errorAfterConnect(5, packet(0xa2, [0, 1], props())), PROTOCOL, /UNSUBSCRIBE: no Topic Filter \[MQTT-3.10.3-2\]/)
})

test('[MQTT-3.8.3-5] Subscription Options: reserved bits Malformed; QoS 3 and Retain Handling 3 Protocol Errors', () => {
  expectError(errorAfterConnect(5, packet(0x82, [0, 1], props(), str('a'), [0x40])), MALFORMED, /reserved Subscription Options bits are set \[MQTT-3.8.3-5\]/)
  expectError(errorAfterConnect(5, packet(0x82, [0, 1], props(), str('a'), [0x03])), PROTOCOL, /Maximum QoS 3/)
  expectError(errorAfterConnect(5, packet(0x82, [0, 1], props(), str('a'), [0x30])), PROTOCOL, /Retain Handling 3/)
  expectError(errorAfterConnect(4, packet(0x82, [0, 1], str('a'), [0x04])), MALFORMED, /Requested QoS byte 0x4/)
  expectError(errorAfterConnect(4, packet(0x82, [0, 1], str('a'), [0x03])), MALFORMED, /Requested QoS byte 0x3/)
  expectError(errorAfterConnect(4, packet(0x82, [0, 1], str('a'))), MALFORMED, /Subscription Options runs past the end/)
})

// --- PINGREQ, DISCONNECT, AUTH

test('PINGREQ and a 3.1.1 DISCONNECT have Remaining Length 0', () => {
  expectError(errorAfterConnect(5, packet(0xc0, [0])), MALFORMED, /PINGREQ: Remaining Length 1, must be 0/)
  expectError(errorAfterConnect(4, packet(0xe0, [0])), MALFORMED, /DISCONNECT: Remaining Length 1, must be 0/)
})

test('§3.14.2.1 a DISCONNECT of Remaining Length 0 is Normal disconnection; 1 carries only the Reason Code', () => {
  const got = afterConnect(5, packet(0xe0), packet(0xe0, [0x04]))
  assert.deepEqual(got.errors, [])
  assert.deepEqual(
    got.packets.map(p => (p as { reasonCode?: number }).reasonCode),
    [0, 4]
  )
})

test('§3.15.2.1 an AUTH of Remaining Length 0 is 0x00 Success without properties (mqtt-packet refuses it)', () => {
  const got = afterConnect(5, packet(0xf0), packet(0xf0, [0x18]))
  assert.deepEqual(got.errors, [])
  assert.deepEqual(
    got.packets.map(p => [p.cmd, (p as { reasonCode?: number }).reasonCode, (p as { properties?: unknown }).properties]),
    [
      ['auth', 0, undefined],
      ['auth', 0x18, undefined]
    ]
  )
  assert.equal(got.packets[0]?.length, 0)
})

test("mqtt-packet's own parse errors become 0x81 Malformed, naming mqtt-packet", () => {
  expectError(errorAfterConnect(5, packet(0xe0, [0x05])), MALFORMED, /DISCONNECT: Invalid disconnect reason code \(mqtt-packet\)/)
  expectError(errorAfterConnect(5, packet(0xf0, [0x05])), MALFORMED, /AUTH: Invalid auth reason code \(mqtt-packet\)/)
})
