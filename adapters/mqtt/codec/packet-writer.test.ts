import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import type { Packet } from 'mqtt-packet'
import type { InboundPacket } from './inbound-packet.ts'
import { encodePacket, encodePublish, publishPacketBytes, type OutboundPacket, type PublishOut } from './packet-writer.ts'
import { connectPacket, readChunks } from './test-wire.ts'

function parseWithMqttPacket(bytes: Buffer, protocolVersion: number): Packet[] {
  const parser = mqttPacket.parser({ protocolVersion })
  const out: Packet[] = []
  parser.on('packet', (p: Packet) => out.push(p))
  parser.on('error', (e: Error) => {
    throw e
  })
  assert.equal(parser.parse(bytes), 0, 'every byte consumed')
  return out
}

/** Encoded, then read back by a reader of the side that receives it. */
function roundTrip(p: OutboundPacket, v: 3 | 4 | 5): InboundPacket {
  const fromServer =
    ['connack', 'suback', 'unsuback', 'pingresp'].includes(p.cmd) || (p.cmd === 'publish' && p.properties?.subscriptionIdentifiers !== undefined)
  const opening = fromServer ? encodePacket({ cmd: 'connack', sessionPresent: false, reasonCode: 0, returnCode: 0 }, v) : connectPacket(v)
  const bytes = encodePacket(p, v)
  const got =
    p.cmd === 'connect'
      ? readChunks([bytes])
      : p.cmd === 'connack'
        ? readChunks([bytes], { role: 'client', protocolVersion: v })
        : readChunks([opening, bytes], fromServer ? { role: 'client', protocolVersion: v } : {})
  assert.deepEqual(got.errors, [], `${p.cmd} v${v}`)
  const packet = got.packets[got.packets.length - 1]
  assert.ok(packet !== undefined)
  assert.equal(packet.cmd, p.cmd)
  return packet
}

const order: Array<[string, string]> = [
  ['a', '1'],
  ['b', '2'],
  ['a', '3']
]

test('round trip of every packet type at MQTT 5: encode, then feed', () => {
  const c = roundTrip(
    {
      cmd: 'connect',
      clientId: 'c',
      clean: false,
      keepalive: 10,
      username: 'u',
      password: Buffer.from('p'),
      will: { topic: 'w', payload: Buffer.from('x'), qos: 2, retain: true, properties: { willDelayInterval: 3, contentType: 'ct' } },
      properties: { sessionExpiryInterval: 100, authenticationMethod: 'm', requestProblemInformation: false }
    },
    5
  )
  assert.ok(c.cmd === 'connect')
  assert.deepEqual([c.protocolVersion, c.clientId, c.clean, c.keepalive, c.username, c.password?.toString()], [5, 'c', false, 10, 'u', 'p'])
  assert.deepEqual([c.will?.topic, c.will?.payload.toString(), c.will?.qos, c.will?.retain, c.will?.properties?.willDelayInterval], ['w', 'x', 2, true, 3])
  assert.deepEqual(c.properties, { sessionExpiryInterval: 100, authenticationMethod: 'm', requestProblemInformation: false })

  const ca = roundTrip({ cmd: 'connack', sessionPresent: true, reasonCode: 0x87, properties: { reasonString: 'no', userProperties: order } }, 5)
  assert.ok(ca.cmd === 'connack')
  assert.deepEqual([ca.sessionPresent, ca.reasonCode, ca.properties?.reasonString], [true, 0x87, 'no'])
  assert.deepEqual(
    ca.userPropertiesOrdered,
    [
      ['a', '1'],
      ['a', '3'],
      ['b', '2']
    ],
    'grouped by name: the documented loss outside PUBLISH'
  )

  const p = roundTrip(
    {
      cmd: 'publish',
      topic: 't/1',
      payload: Buffer.from('m'),
      qos: 2,
      packetId: 9,
      retain: true,
      dup: true,
      properties: { userProperties: order, messageExpiryInterval: 30 }
    },
    5
  )
  assert.ok(p.cmd === 'publish')
  assert.deepEqual(
    [p.topic, p.payload.toString(), p.qos, p.messageId, p.retain, p.dup, p.properties?.messageExpiryInterval],
    ['t/1', 'm', 2, 9, true, true, 30]
  )
  assert.deepEqual(p.userPropertiesOrdered, order)

  for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const) {
    const ack = roundTrip({ cmd, messageId: 4, reasonCode: cmd === 'puback' || cmd === 'pubrec' ? 0x10 : 0x92 }, 5)
    assert.deepEqual([ack.messageId, (ack as { reasonCode?: number }).reasonCode], [4, cmd === 'puback' || cmd === 'pubrec' ? 0x10 : 0x92], cmd)
    const withProps = roundTrip({ cmd, messageId: 5, reasonCode: 0, properties: { reasonString: 'r', userProperties: [['k', 'v']] } }, 5)
    assert.deepEqual(withProps.userPropertiesOrdered, [['k', 'v']], cmd)
  }

  const s = roundTrip(
    { cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'a/#', qos: 2, nl: true, rap: false, rh: 1 }], properties: { subscriptionIdentifier: 12 } },
    5
  )
  assert.ok(s.cmd === 'subscribe')
  assert.deepEqual([s.messageId, s.subscriptions, s.properties?.subscriptionIdentifier], [3, [{ topic: 'a/#', qos: 2, nl: true, rap: false, rh: 1 }], 12])

  const sa = roundTrip({ cmd: 'suback', messageId: 3, granted: [2, 0x87], properties: { userProperties: [['x', 'y']] } }, 5)
  assert.ok(sa.cmd === 'suback')
  assert.deepEqual([sa.messageId, sa.granted, sa.userPropertiesOrdered], [3, [2, 0x87], [['x', 'y']]])

  const u = roundTrip({ cmd: 'unsubscribe', messageId: 8, unsubscriptions: ['a/#', 'b'] }, 5)
  assert.ok(u.cmd === 'unsubscribe')
  assert.deepEqual(u.unsubscriptions, ['a/#', 'b'])

  const ua = roundTrip({ cmd: 'unsuback', messageId: 8, granted: [0, 0x11] }, 5)
  assert.ok(ua.cmd === 'unsuback')
  assert.deepEqual(ua.granted, [0, 0x11])

  roundTrip({ cmd: 'pingreq' }, 5)
  roundTrip({ cmd: 'pingresp' }, 5)

  const d = roundTrip({ cmd: 'disconnect', reasonCode: 0x04, properties: { reasonString: 'bye', userProperties: order } }, 5)
  assert.ok(d.cmd === 'disconnect')
  assert.deepEqual([d.reasonCode, d.properties?.reasonString], [4, 'bye'])
  assert.equal(roundTrip({ cmd: 'disconnect' }, 5).cmd, 'disconnect')

  const a = roundTrip(
    { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from([1, 2]), userProperties: order } },
    5
  )
  assert.ok(a.cmd === 'auth')
  assert.deepEqual([a.reasonCode, a.properties?.authenticationMethod, a.properties?.authenticationData], [0x18, 'SCRAM-SHA-256', Buffer.from([1, 2])])
})

test('round trip of every packet type at MQTT 3.1.1 (and CONNECT at 3.1)', () => {
  for (const v of [4, 3] as const) {
    const c = roundTrip(
      {
        cmd: 'connect',
        clientId: 'c',
        clean: true,
        keepalive: 5,
        username: 'u',
        password: Buffer.from('p'),
        will: { topic: 'w', payload: Buffer.from('x'), qos: 1, retain: false }
      },
      v
    )
    assert.ok(c.cmd === 'connect')
    assert.deepEqual([c.protocolVersion, c.protocolId, c.clientId, c.will?.topic, c.will?.qos], [v, v === 3 ? 'MQIsdp' : 'MQTT', 'c', 'w', 1])
  }
  const ca = roundTrip({ cmd: 'connack', sessionPresent: true, returnCode: 5 }, 4)
  assert.ok(ca.cmd === 'connack')
  assert.deepEqual([ca.sessionPresent, ca.returnCode], [true, 5])
  const p = roundTrip(
    { cmd: 'publish', topic: 't', payload: Buffer.from('m'), qos: 1, packetId: 2, retain: false, dup: false, properties: { userProperties: order } },
    4
  )
  assert.ok(p.cmd === 'publish')
  assert.deepEqual([p.topic, p.messageId, p.properties, p.userPropertiesOrdered], ['t', 2, undefined, undefined], 'no properties before MQTT 5')
  for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const) {
    const ack = roundTrip({ cmd, messageId: 4, reasonCode: 0x80 }, 4)
    assert.deepEqual([ack.messageId, (ack as { reasonCode?: number }).reasonCode], [4, undefined], `${cmd}: no Reason Code before MQTT 5`)
  }
  const s = roundTrip({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'a/+', qos: 1 }] }, 4)
  assert.ok(s.cmd === 'subscribe')
  assert.deepEqual(s.subscriptions, [{ topic: 'a/+', qos: 1 }])
  const sa = roundTrip({ cmd: 'suback', messageId: 3, granted: [1, 0x80] }, 4)
  assert.ok(sa.cmd === 'suback')
  assert.deepEqual(sa.granted, [1, 0x80])
  const u = roundTrip({ cmd: 'unsubscribe', messageId: 6, unsubscriptions: ['a/+'] }, 4)
  assert.ok(u.cmd === 'unsubscribe')
  assert.deepEqual(u.unsubscriptions, ['a/+'])
  assert.equal(roundTrip({ cmd: 'unsuback', messageId: 6, granted: [] }, 4).messageId, 6)
  roundTrip({ cmd: 'pingreq' }, 4)
  roundTrip({ cmd: 'pingresp' }, 4)
  roundTrip({ cmd: 'disconnect' }, 4)
})

const base: PublishOut = { topic: 'sensors/é', payload: Buffer.from('{"t":21}'), qos: 1, packetId: 300, retain: true, dup: false }
const full: PublishOut = {
  ...base,
  properties: {
    payloadFormatIndicator: 1,
    messageExpiryInterval: 3600,
    topicAlias: 7,
    responseTopic: 'reply/to',
    correlationData: Buffer.from([0, 1, 2]),
    userProperties: [
      ['z', '1'],
      ['a', '2'],
      ['z', '3'],
      ['m', '']
    ],
    subscriptionIdentifiers: [1, 200, 70_000, 268_435_455],
    contentType: 'application/json'
  }
}

test('encodePublish output parses with mqtt-packet into the same fields', () => {
  const [p] = parseWithMqttPacket(encodePublish(full, 5), 5)
  assert.ok(p?.cmd === 'publish')
  assert.deepEqual([p.topic, p.payload.toString(), p.qos, p.messageId, p.retain, p.dup], ['sensors/é', '{"t":21}', 1, 300, true, false])
  assert.deepEqual(
    { ...p.properties, userProperties: { ...p.properties?.userProperties } },
    {
      payloadFormatIndicator: true,
      messageExpiryInterval: 3600,
      topicAlias: 7,
      responseTopic: 'reply/to',
      correlationData: Buffer.from([0, 1, 2]),
      userProperties: { z: ['1', '3'], a: '2', m: '' },
      subscriptionIdentifier: [1, 200, 70_000, 268_435_455],
      contentType: 'application/json'
    }
  )
  const [v4] = parseWithMqttPacket(encodePublish(full, 4), 4)
  assert.ok(v4?.cmd === 'publish')
  assert.deepEqual([v4.topic, v4.messageId, v4.properties], ['sensors/é', 300, undefined])
})

test('[MQTT-3.3.2-18] User Properties go on the wire in the order given, names repeated', () => {
  // The reader returns them in wire order (packet-checks.test.ts builds that wire by hand).
  const got = readChunks([connectPacket(5), encodePublish({ ...full, properties: { ...full.properties, subscriptionIdentifiers: undefined } }, 5)])
  assert.deepEqual(got.errors, [])
  assert.deepEqual(got.packets[1]?.userPropertiesOrdered, [
    ['z', '1'],
    ['a', '2'],
    ['z', '3'],
    ['m', '']
  ])
  const bytes = encodePublish({ ...base, properties: { userProperties: order } }, 5)
  const pairs = [...bytes.toString('latin1').matchAll(/\x26\x00\x01(.)\x00\x01(.)/g)].map(m => [m[1], m[2]])
  assert.deepEqual(pairs, order)
})

test('encodePublish writes the same bytes as mqtt-packet for a PUBLISH without properties', () => {
  for (const v of [3, 4, 5] as const) {
    for (const qos of [0, 1, 2] as const) {
      const p: PublishOut = { topic: 'a/b', payload: Buffer.alloc(200, 9), qos, retain: qos === 1, dup: qos === 2, ...(qos > 0 ? { packetId: 77 } : {}) }
      const theirs = mqttPacket.generate(
        { cmd: 'publish', topic: p.topic, payload: p.payload, qos, retain: p.retain, dup: p.dup, ...(qos > 0 ? { messageId: 77 } : {}) },
        { protocolVersion: v }
      )
      assert.deepEqual(encodePublish(p, v), theirs, `v${v} qos ${qos}`)
    }
  }
})

test('publishPacketBytes is the length encodePublish writes, across Remaining Length sizes', () => {
  for (const payloadBytes of [0, 100, 127, 16_370, 16_384, 2_097_100, 2_097_152]) {
    for (const p of [base, full]) {
      const withPayload = { ...p, payload: Buffer.alloc(payloadBytes) }
      for (const v of [4, 5] as const) assert.equal(publishPacketBytes(withPayload, v), encodePublish(withPayload, v).length, `${payloadBytes} v${v}`)
    }
  }
})

test('an empty topic goes out only with a Topic Alias, and only at MQTT 5', () => {
  const aliased: PublishOut = { ...base, topic: '', properties: { topicAlias: 3 } }
  const [p] = parseWithMqttPacket(encodePublish(aliased, 5), 5)
  assert.ok(p?.cmd === 'publish')
  assert.deepEqual([p.topic, p.properties?.topicAlias], ['', 3])
  assert.throws(() => encodePublish({ ...base, topic: '' }, 5), /empty topic without a topicAlias/)
  assert.throws(() => encodePublish(aliased, 4), /empty topic \(topic aliases are MQTT 5 only\)/)
})

test('encodePublish refuses what would be a malformed packet (a programming error)', () => {
  assert.throws(() => encodePublish({ ...base, packetId: undefined }, 5), /QoS 1 needs a packetId/)
  assert.throws(() => encodePublish({ ...base, packetId: 0 }, 5), /QoS 1 needs a packetId 1\.\.65535, got 0/)
  assert.throws(() => encodePublish({ ...base, properties: { topicAlias: 0 } }, 5), /topicAlias 0 is outside 1\.\.65535/)
  assert.throws(() => encodePublish({ ...base, properties: { subscriptionIdentifiers: [0] } }, 5), /subscriptionIdentifier 0/)
  assert.throws(() => encodePublish({ ...base, topic: 'x'.repeat(65_536) }, 5), /topic is 65536 bytes/)
  assert.throws(() => encodePublish({ ...base, properties: { correlationData: Buffer.alloc(65_536) } }, 5), /correlationData is 65536 bytes/)
  assert.equal(encodePublish({ ...base, qos: 0, packetId: undefined }, 5)[0], 0x31, 'QoS 0 needs no packetId')
})

test('acks without properties are written by hand: mqtt-packet reads them back the same', () => {
  for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const) {
    for (const v of [4, 5] as const) {
      const bytes = encodePacket({ cmd, messageId: 513 }, v)
      assert.deepEqual(bytes, mqttPacket.generate({ cmd, messageId: 513, reasonCode: 0 }, { protocolVersion: v }), `${cmd} v${v}: the same bytes`)
    }
    const failure = cmd === 'puback' || cmd === 'pubrec' ? 0x97 : 0x92
    const bytes = encodePacket({ cmd, messageId: 2, reasonCode: failure }, 5)
    assert.equal(bytes.length, 5, 'Remaining Length 3: no Property Length')
    const [p] = parseWithMqttPacket(bytes, 5)
    assert.deepEqual([p?.cmd, p?.messageId, (p as { reasonCode?: number }).reasonCode], [cmd, 2, failure])
  }
  assert.throws(() => encodePacket({ cmd: 'puback' }, 5), /puback needs a messageId/)
})

test('other packets: a User Property list is given to mqtt-packet grouped by name; reasonCode defaults to Success', () => {
  const bytes = encodePacket({ cmd: 'suback', messageId: 1, granted: [0], properties: { userProperties: order } }, 5)
  const [p] = parseWithMqttPacket(bytes, 5)
  assert.ok(p?.cmd === 'suback')
  assert.deepEqual({ ...p.properties?.userProperties }, { a: ['1', '3'], b: '2' })
  const [d] = parseWithMqttPacket(encodePacket({ cmd: 'disconnect' }, 5), 5)
  assert.equal((d as { reasonCode?: number }).reasonCode, 0)
  const [a] = parseWithMqttPacket(encodePacket({ cmd: 'auth', properties: { authenticationMethod: 'm' } } as OutboundPacket, 5), 5)
  assert.equal((a as { reasonCode?: number }).reasonCode, 0)
})

test('mqtt-packet refusing a packet surfaces as a throw', () => {
  assert.throws(() => encodePacket({ cmd: 'auth', reasonCode: 0 }, 4), /Invalid mqtt version for auth packet/)
})

test('strings are written right whether short or long, ASCII or not, wherever the first non-ASCII character is', () => {
  for (const length of [0, 1, 47, 48, 49, 300]) {
    for (const at of [-1, 0, Math.floor(length / 2), length - 1]) {
      const chars = 'k'.repeat(Math.max(length, 1)).split('')
      if (at >= 0 && length > 0) chars[at] = '€'
      const s = length === 0 ? '' : chars.join('')
      const p: PublishOut = {
        topic: s === '' ? 't' : s,
        payload: Buffer.from('x'),
        qos: 0,
        retain: false,
        dup: false,
        properties: { contentType: s, userProperties: [[s, s]] }
      }
      const bytes = encodePublish(p, 5)
      assert.equal(bytes.length, publishPacketBytes(p, 5))
      const [got] = parseWithMqttPacket(bytes, 5)
      assert.ok(got?.cmd === 'publish')
      assert.deepEqual([got.topic, got.properties?.contentType, got.properties?.userProperties?.[s]], [p.topic, s, s], `length ${length}, '€' at ${at}`)
    }
  }
})
