// The property lists publishers repeat are decoded once and shared, frozen; lists that are usually
// unique per message, hold headers or are long are left to each message.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BASIC_CLASS_ID, encodeProperties } from './codec/amqp-defs.ts'
import { AmqpCodecError } from './codec/codec-error.ts'
import { PropertyInterner } from './property-interner.ts'

const encode = (p: Parameters<typeof encodeProperties>[1]): Buffer => encodeProperties(BASIC_CLASS_ID, p)

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
