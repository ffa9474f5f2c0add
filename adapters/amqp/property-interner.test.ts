// The property lists publishers repeat are decoded once and shared, frozen; lists that are usually
// unique per message, hold headers or are long are left to each message.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BASIC_CLASS_ID, decodeProperties, encodeProperties } from './codec/amqp-defs.ts'
import { AmqpCodecError } from './codec/codec-error.ts'
import { PropertyInterner } from './property-interner.ts'

const encode = (p: Parameters<typeof encodeProperties>[1]): Buffer => encodeProperties(BASIC_CLASS_ID, p)
const decodePropertiesOf = (b: Buffer): unknown => decodeProperties(BASIC_CLASS_ID, b)

test('the same list twice: one shared copy of its bytes (not the caller view) and one frozen decoded object', () => {
  const interner = new PropertyInterner()
  const frame = Buffer.concat([Buffer.from('xx'), encode({ contentType: 'application/json', deliveryMode: 2, appId: 'plc-7' })])
  const view = frame.subarray(2)
  const first = interner.lookup(view)
  const second = interner.lookup(Buffer.from(view))
  assert.ok(first !== null && second !== null)
  assert.equal(second, first, 'the second lookup returns the kept entry')
  assert.deepEqual(first.bytes, view)
  assert.notEqual(first.bytes.buffer, frame.buffer, 'a copy of its own: the frame is not kept alive')
  assert.deepEqual(first.properties, { contentType: 'application/json', deliveryMode: 2, appId: 'plc-7' })
  assert.ok(Object.isFrozen(first.properties))
})

test('lists with a per-message property or a non-empty headers table are not kept; an empty table (amqplib always sends one) is', () => {
  const interner = new PropertyInterner()
  for (const p of [
    { deliveryMode: 2, correlationId: 'c1' },
    { deliveryMode: 2, messageId: 'm1' },
    { deliveryMode: 2, timestamp: 1_700_000_000 },
    { deliveryMode: 2, expiration: '60000' },
    { deliveryMode: 2, headers: { plant: 'north' } }
  ]) {
    assert.equal(interner.lookup(encode(p)), null, JSON.stringify(p))
  }
  assert.equal(interner.lookup(encode({ type: 'x'.repeat(250), appId: 'y'.repeat(10) })), null, 'a list over 256 bytes')
  const empty = interner.lookup(encode({ contentType: 'text/plain', contentEncoding: 'utf-8', headers: {}, deliveryMode: 2 }))
  assert.deepEqual(empty?.properties, { contentType: 'text/plain', contentEncoding: 'utf-8', headers: {}, deliveryMode: 2 })
  assert.ok(Object.isFrozen(empty?.properties.headers), 'the shared empty table is frozen too')
})

test('a malformed list is refused with the codec error, as when each message decoded its own', () => {
  const interner = new PropertyInterner()
  const bad = Buffer.from([0x80, 0x00, 0x05, 0x61]) // content-type announced with 5 bytes, 1 present
  assert.throws(
    () => interner.lookup(bad),
    (err: unknown) => err instanceof AmqpCodecError && /decode properties/.test(err.message)
  )
})

test('a headers table of numbers and booleans alone is kept (MQTT messages read back from SQLite), frozen; other tables are not', () => {
  const interner = new PropertyInterner()
  const mqtt = { deliveryMode: 2, headers: { 'x-mqtt-publish-qos': 1 } }
  const first = interner.lookup(encode(mqtt))
  assert.ok(first !== null)
  assert.deepEqual(first.properties, mqtt)
  assert.ok(Object.isFrozen(first.properties) && Object.isFrozen(first.properties.headers))
  assert.equal(interner.lookup(encode(mqtt)), first, 'decoded once, shared')
  const retained = interner.lookup(encode({ contentType: 'text/plain', headers: { 'x-mqtt-publish-qos': 0, 'x-mqtt-retain': true, ratio: 0.5, big: 2 ** 40 } }))
  assert.deepEqual(retained?.properties.headers, { 'x-mqtt-publish-qos': 0, 'x-mqtt-retain': true, ratio: 0.5, big: 2 ** 40 })
  for (const headers of [
    { qos: 1, plant: 'north' },
    { nested: { qos: 1 } },
    { list: [1, 2] },
    { bytes: Buffer.from('x') },
    { none: null },
    Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`h${i}`, i]))
  ]) {
    assert.equal(interner.lookup(encode({ deliveryMode: 2, headers })), null, JSON.stringify(headers))
  }
})

test('a headers table whose length runs past the list is left to the decoder to refuse', () => {
  const interner = new PropertyInterner()
  const good = encode({ deliveryMode: 2, headers: { 'x-mqtt-publish-qos': 1 } })
  const truncated = good.subarray(0, good.length - 3)
  assert.throws(
    () => interner.lookup(truncated) ?? decodePropertiesOf(truncated),
    (err: unknown) => err instanceof AmqpCodecError
  )
})
