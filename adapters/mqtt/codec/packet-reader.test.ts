import { parserFaults } from './shared-parser.ts'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodePacket, encodePublish, type OutboundPacket } from './packet-writer.ts'
import { ReasonCode } from './reason-codes.ts'
import { connectPacket, packet, readChunks, str, varint } from './test-wire.ts'

// What a client sends, one of each kind, at a version.
function clientStream(v: 3 | 4 | 5): Buffer {
  const five = v === 5
  const userProperties: Array<[string, string]> = [
    ['a', '1'],
    ['b', '2'],
    ['a', '3']
  ]
  const out: OutboundPacket[] = [
    {
      cmd: 'connect',
      clientId: 'client-1',
      clean: false,
      keepalive: 30,
      username: 'u',
      password: Buffer.from('p'),
      will: {
        topic: 'will/t',
        payload: Buffer.from('bye'),
        qos: 1,
        retain: true,
        ...(five ? { properties: { willDelayInterval: 5, userProperties: { w: '1' } } } : {})
      },
      ...(five ? { properties: { sessionExpiryInterval: 60, receiveMaximum: 10, userProperties } } : {})
    },
    { cmd: 'publish', topic: 'a/b', payload: Buffer.from('zero'), qos: 0, retain: false, dup: false },
    {
      cmd: 'publish',
      topic: 'a/b',
      payload: Buffer.from('one'),
      qos: 1,
      packetId: 1,
      retain: true,
      dup: false,
      properties: { userProperties, contentType: 'text/plain', messageExpiryInterval: 9 }
    },
    {
      cmd: 'publish',
      topic: 'a/ü',
      payload: Buffer.alloc(300, 1),
      qos: 2,
      packetId: 2,
      retain: false,
      dup: true,
      properties: { topicAlias: 3, correlationData: Buffer.from([1, 2]), responseTopic: 'r', payloadFormatIndicator: 1 }
    },
    { cmd: 'puback', messageId: 3, ...(five ? { reasonCode: 0x10 } : {}) },
    { cmd: 'pubrec', messageId: 4, ...(five ? { reasonCode: 0x80, properties: { reasonString: 'no', userProperties } } : {}) },
    { cmd: 'pubrel', messageId: 4 },
    { cmd: 'pubcomp', messageId: 4 },
    {
      cmd: 'subscribe',
      messageId: 5,
      subscriptions: [
        { topic: 'x/#', qos: 1 },
        { topic: 'y/+', qos: 2, ...(five ? { nl: true, rap: true, rh: 2 } : {}) }
      ],
      ...(five ? { properties: { subscriptionIdentifier: 7, userProperties } } : {})
    },
    { cmd: 'unsubscribe', messageId: 6, unsubscriptions: ['x/#', 'y/+'] },
    { cmd: 'pingreq' },
    ...(five ? [{ cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from('d') } } as const] : []),
    ...(five
      ? [{ cmd: 'disconnect', reasonCode: 0x04, properties: { sessionExpiryInterval: 0, reasonString: 'bye' } } as const]
      : [{ cmd: 'disconnect' } as const])
  ]
  return Buffer.concat(out.map(p => encodePacket(p, v)))
}

// What a server sends, one of each kind.
function serverStream(v: 4 | 5): Buffer {
  const five = v === 5
  const out: OutboundPacket[] = [
    five
      ? {
          cmd: 'connack',
          sessionPresent: true,
          reasonCode: 0,
          properties: { topicAliasMaximum: 10, maximumQoS: 1, retainAvailable: false, assignedClientIdentifier: 'id' }
        }
      : { cmd: 'connack', sessionPresent: false, returnCode: 0 },
    {
      cmd: 'publish',
      topic: 'a/b',
      payload: Buffer.from('x'),
      qos: 1,
      packetId: 9,
      retain: false,
      dup: false,
      properties: { subscriptionIdentifiers: [1, 300, 70000] }
    },
    { cmd: 'puback', messageId: 1 },
    { cmd: 'pubrec', messageId: 2 },
    { cmd: 'pubrel', messageId: 2, ...(five ? { reasonCode: 0x92 } : {}) },
    { cmd: 'pubcomp', messageId: 2 },
    { cmd: 'suback', messageId: 5, granted: five ? [0, 1, 0x80] : [0, 1, 0x80], ...(five ? { properties: { reasonString: 'ok' } } : {}) },
    { cmd: 'unsuback', messageId: 6, granted: five ? [0, 0x11] : [] },
    { cmd: 'pingresp' },
    ...(five ? [{ cmd: 'disconnect', reasonCode: 0x8b, properties: { serverReference: 'other' } } as const] : [])
  ]
  return Buffer.concat(out.map(p => encodePacket(p, v)))
}

const CLIENT_TYPES_V5 = [
  'connect',
  'publish',
  'publish',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'unsubscribe',
  'pingreq',
  'auth',
  'disconnect'
]

test('a stream of every client packet, in one chunk, at 5, 3.1.1 and 3.1', () => {
  for (const v of [5, 4, 3] as const) {
    const { packets, errors } = readChunks([clientStream(v)])
    assert.deepEqual(errors, [], `v${v}`)
    const expected = v === 5 ? CLIENT_TYPES_V5 : CLIENT_TYPES_V5.filter(c => c !== 'auth')
    assert.deepEqual(
      packets.map(p => p.cmd),
      expected,
      `v${v}`
    )
  }
})

test('the client stream split at every byte boundary gives the same packets', () => {
  for (const v of [5, 4] as const) {
    const stream = clientStream(v)
    const whole = readChunks([stream]).packets
    for (let k = 1; k < stream.length; k++) {
      const { packets, errors } = readChunks([stream.subarray(0, k), stream.subarray(k)])
      assert.deepEqual(errors, [], `v${v} split at ${k}`)
      assert.deepEqual(packets, whole, `v${v} split at ${k}`)
    }
    const oneByOne = readChunks([...stream].map(b => Buffer.from([b])))
    assert.deepEqual(oneByOne.packets, whole, `v${v} byte by byte`)
  }
})

test('the server stream (client role) split at every byte boundary gives the same packets', () => {
  for (const v of [5, 4] as const) {
    const stream = serverStream(v)
    const whole = readChunks([stream], { role: 'client', protocolVersion: v })
    assert.deepEqual(whole.errors, [])
    assert.equal(whole.packets.length, v === 5 ? 10 : 9)
    for (let k = 1; k < stream.length; k++) {
      const { packets, errors } = readChunks([stream.subarray(0, k), stream.subarray(k)], { role: 'client', protocolVersion: v })
      assert.deepEqual(errors, [], `v${v} split at ${k}`)
      assert.deepEqual(packets, whole.packets, `v${v} split at ${k}`)
    }
  }
})

test('a packet that arrives whole is decoded in place; one split across reads gets its own buffer', () => {
  const publish = encodePublish({ topic: 't', payload: Buffer.from('payload'), qos: 0, retain: false, dup: false }, 5)
  const chunk = Buffer.concat([connectPacket(5), publish])
  const inPlace = readChunks([chunk]).packets[1]
  const split = readChunks([chunk.subarray(0, chunk.length - 3), chunk.subarray(chunk.length - 3)]).packets[1]
  assert.ok(inPlace?.cmd === 'publish' && split?.cmd === 'publish')
  chunk.fill(0x2e, chunk.length - 7) // overwrite the payload in the read chunk
  assert.equal(inPlace.payload.toString(), '.......', 'a view into the chunk, no copy')
  assert.equal(split.payload.toString(), 'payload', 'gathered into its own buffer')
})

test('over maxPacketBytes is 0x95, decided from the fixed header alone', () => {
  const big = encodePublish({ topic: 't', payload: Buffer.alloc(5000), qos: 0, retain: false, dup: false }, 5)
  // Only the CONNECT and the PUBLISH's fixed header (type byte + 2 length bytes) are fed.
  const { errors, packets, reader } = readChunks([connectPacket(5), big.subarray(0, 3)], { maxPacketBytes: 1000 })
  assert.equal(packets.length, 1)
  assert.equal(errors.length, 1)
  assert.equal(errors[0]?.reasonCode, ReasonCode.PacketTooLarge)
  assert.match(errors[0]?.message ?? '', /PUBLISH: packet of 5007 bytes exceeds the maximum of 1000/)
  assert.equal(reader.midPacket, false, 'and nothing is left waiting for the body')
})

test('a packet of exactly maxPacketBytes passes; one byte more does not', () => {
  const connect = connectPacket(5)
  const at = readChunks([connect], { maxPacketBytes: connect.length })
  assert.deepEqual([at.packets.length, at.errors.length], [1, 0])
  const over = readChunks([connect], { maxPacketBytes: connect.length - 1 })
  assert.equal(over.errors[0]?.reasonCode, 0x95)
})

test('[MQTT-1.5.5-1] a Remaining Length longer than 4 bytes is 0x81', () => {
  const { errors } = readChunks([connectPacket(5), Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])])
  assert.equal(errors[0]?.reasonCode, ReasonCode.MalformedPacket)
  assert.match(errors[0]?.message ?? '', /longer than 4 bytes/)
})

test('[MQTT-1.5.5-1] a Remaining Length not in its shortest encoding is 0x81', () => {
  const { errors } = readChunks([connectPacket(5), Buffer.from([0xc0, 0x80, 0x00])])
  assert.equal(errors[0]?.reasonCode, ReasonCode.MalformedPacket)
  assert.match(errors[0]?.message ?? '', /shortest encoding/)
})

test('Remaining Lengths at the 1-4 byte boundaries frame correctly', () => {
  for (const payloadBytes of [0, 120, 121, 16_380, 16_385, 2_097_140, 2_097_160]) {
    const p = encodePublish({ topic: 'a', payload: Buffer.alloc(payloadBytes, 3), qos: 0, retain: false, dup: false }, 4)
    const cut = Math.min(3, p.length - 1)
    const { packets, errors } = readChunks([connectPacket(4), p.subarray(0, cut), p.subarray(cut)], { maxPacketBytes: 3_000_000 })
    assert.deepEqual(errors, [])
    const got = packets[1]
    assert.ok(got?.cmd === 'publish')
    assert.equal((got.payload as Buffer).length, payloadBytes)
  }
})

test('[MQTT-3.1.0-1] the first packet must be CONNECT: refused from its first byte', () => {
  const { errors } = readChunks([Buffer.from([0x30])])
  assert.equal(errors[0]?.reasonCode, ReasonCode.ProtocolError)
  assert.match(errors[0]?.message ?? '', /PUBLISH before CONNECT \[MQTT-3.1.0-1\]/)
  const http = readChunks([Buffer.from('GET / HTTP/1.1\r\n')])
  assert.equal(http.errors.length, 1)
})

test('[MQTT-3.1.0-2] a second CONNECT is a Protocol Error', () => {
  const { errors, packets } = readChunks([connectPacket(5), connectPacket(5)])
  assert.equal(packets.length, 1)
  assert.equal(errors[0]?.reasonCode, ReasonCode.ProtocolError)
  assert.match(errors[0]?.message ?? '', /second CONNECT/)
})

test('packets only a server sends are refused from a client, and the other way round', () => {
  for (const first of [0x20, 0x90, 0xb0, 0xd0]) {
    const { errors } = readChunks([connectPacket(5), Buffer.from([first, 0])])
    assert.equal(errors[0]?.reasonCode, ReasonCode.ProtocolError, `0x${first.toString(16)}`)
    assert.match(errors[0]?.message ?? '', /is sent by a server, not a client/)
  }
  const connack = encodePacket({ cmd: 'connack', sessionPresent: false, reasonCode: 0 }, 5)
  for (const first of [0x10, 0x82, 0xa2, 0xc0]) {
    const { errors } = readChunks([connack, Buffer.from([first, 0])], { role: 'client', protocolVersion: 5 })
    assert.match(errors[0]?.message ?? '', /is sent by a client, not a server/)
  }
  const early = readChunks([encodePacket({ cmd: 'puback', messageId: 1 }, 5)], { role: 'client', protocolVersion: 5 })
  assert.match(early.errors[0]?.message ?? '', /PUBACK before CONNACK \[MQTT-3.2.0-1\]/)
})

test('a client reads AUTH before the CONNACK (enhanced authentication, §4.12), then one CONNACK only', () => {
  const auth = encodePacket({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-256' } }, 5)
  const connack = encodePacket({ cmd: 'connack', sessionPresent: false, reasonCode: 0 }, 5)
  const { packets, errors } = readChunks([auth, connack, auth, connack], { role: 'client', protocolVersion: 5 })
  assert.deepEqual(
    packets.map(p => p.cmd),
    ['auth', 'connack', 'auth']
  )
  assert.match(errors[0]?.message ?? '', /a second CONNACK \[MQTT-3.2.0-2\]/)
})

test('[MQTT-2.1.3-1] (3.1.1: [MQTT-2.2.2-2]) reserved fixed header flags are malformed; so are type 0 and, before MQTT 5, type 15', () => {
  const cases: Array<[number, 3 | 4 | 5, RegExp]> = [
    [0x41, 5, /PUBACK fixed header flags 0x1, must be 0x0/],
    [0x60, 5, /PUBREL fixed header flags 0x0, must be 0x2/],
    [0x80, 4, /SUBSCRIBE fixed header flags 0x0, must be 0x2/],
    [0xa0, 4, /UNSUBSCRIBE fixed header flags/],
    [0xc1, 4, /PINGREQ fixed header flags/],
    [0xe8, 5, /DISCONNECT fixed header flags/],
    [0x00, 5, /packet type 0 is reserved/],
    [0xf0, 4, /type 15 \(AUTH\) is reserved before MQTT 5/]
  ]
  for (const [first, v, message] of cases) {
    const { errors } = readChunks([connectPacket(v), Buffer.from([first, 0])])
    assert.equal(errors[0]?.reasonCode, ReasonCode.MalformedPacket, `0x${first.toString(16)}`)
    assert.match(errors[0]?.message ?? '', message)
  }
})

test('[MQTT-3.3.1-4] a PUBLISH with QoS 3 is malformed', () => {
  const { errors } = readChunks([connectPacket(4), packet(0x36, str('t'), [0, 1])])
  assert.equal(errors[0]?.reasonCode, ReasonCode.MalformedPacket)
  assert.match(errors[0]?.message ?? '', /QoS 3/)
})

test('after an error nothing more is delivered, in this chunk or later ones', () => {
  const good = encodePacket({ cmd: 'pingreq' }, 5)
  const { packets, errors, reader } = readChunks([connectPacket(5), Buffer.concat([good, Buffer.from([0x00, 0x00]), good])])
  reader.feed(good)
  assert.deepEqual(
    packets.map(p => p.cmd),
    ['connect', 'pingreq']
  )
  assert.equal(errors.length, 1)
})

test('stop() from inside onPacket delivers nothing more of the chunk', () => {
  const ping = encodePacket({ cmd: 'pingreq' }, 5)
  const seen: string[] = []
  const got = readChunks([connectPacket(5)])
  got.reader.sink.packetRead = p => {
    seen.push(p.cmd)
    got.reader.stop()
  }
  got.reader.feed(Buffer.concat([ping, ping, ping]))
  assert.deepEqual(seen, ['pingreq'])
})

test('the protocol version comes from the CONNECT; the parser follows it without setProtocolVersion', () => {
  for (const v of [3, 4, 5] as const) {
    const disconnect = v === 5 ? Buffer.from([0xe0, 0x01, 0x04]) : Buffer.from([0xe0, 0x00])
    const { packets, errors, reader } = readChunks([Buffer.concat([connectPacket(v), disconnect])])
    assert.deepEqual(errors, [])
    assert.equal(reader.protocolVersion, v)
    const d = packets[1]
    assert.ok(d?.cmd === 'disconnect')
    assert.equal(d.reasonCode, v === 5 ? 4 : undefined)
  }
})

test('the version is known even when the rest of the CONNECT then fails (to answer in its format)', () => {
  const bad = packet(0x10, str('MQTT'), [5, 0x01, 0, 0], [0], str('c'))
  const { errors, reader } = readChunks([bad])
  assert.equal(errors[0]?.reasonCode, ReasonCode.MalformedPacket)
  assert.equal(reader.protocolVersion, 5)
})

test('midPacket is true while a packet is partly received', () => {
  const p = encodePublish({ topic: 't', payload: Buffer.alloc(50), qos: 0, retain: false, dup: false }, 5)
  const got = readChunks([connectPacket(5)])
  assert.equal(got.reader.midPacket, false)
  got.reader.feed(p.subarray(0, 1))
  assert.equal(got.reader.midPacket, true)
  got.reader.feed(p.subarray(1, 10))
  assert.equal(got.reader.midPacket, true)
  got.reader.feed(p.subarray(10))
  assert.equal(got.reader.midPacket, false)
  assert.equal(got.packets.length, 2)
})

test('hold() stops delivery after the current packet, mid-chunk; release() delivers the rest in order', () => {
  const pubs = [0, 1, 2, 3].map(i => encodePublish({ topic: 't', payload: Buffer.from(`m${i}`), qos: 0, retain: false, dup: false }, 5))
  const got = readChunks([connectPacket(5)])
  got.reader.sink.packetRead = p => {
    got.packets.push(p)
    if (got.packets.length === 2) got.reader.hold()
  }
  got.reader.feed(Buffer.concat(pubs.slice(0, 3)))
  assert.equal(got.packets.length, 2, 'CONNECT and m0, then held')
  got.reader.feed(pubs[3] as Buffer) // bytes fed while held wait too
  assert.equal(got.packets.length, 2)
  got.reader.release()
  assert.deepEqual(
    got.packets.slice(1).map(p => String((p as { payload: Buffer }).payload)),
    ['m0', 'm1', 'm2', 'm3']
  )
})

test('a client-role reader needs the protocol version up front', () => {
  assert.throws(() => readChunks([], { role: 'client' }), /needs protocolVersion/)
})

test('a body longer than the Remaining Length says is the next packet, and must frame as one', () => {
  // PINGREQ with a stray byte after it: 0x05 is read as the next packet's first byte (type 0).
  const { errors } = readChunks([connectPacket(4), Buffer.from([0xc0, 0x00, 0x05])])
  assert.match(errors[0]?.message ?? '', /type 0 is reserved/)
  assert.equal(varint(0).length, 1)
})

test('a fault inside decoding fails this connection with 0x83, it does not throw out of feed', () => {
  const got = readChunks([connectPacket(4)])
  parserFaults.inject = () => {
    throw new TypeError('boom')
  }
  try {
    got.reader.feed(Buffer.from([0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]))
  } finally {
    parserFaults.inject = null
  }
  assert.equal(got.errors[0]?.reasonCode, ReasonCode.ImplementationSpecificError)
  assert.match(got.errors[0]?.message ?? '', /SUBSCRIBE: decoding failed: boom/)
})
