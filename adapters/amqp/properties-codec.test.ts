// Properties read back from SQLite come as the hex of their AMQP encoding: repeated lists are decoded
// once and shared, the rest decoded each time, every one with bytes of its own.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { amqpPropertiesCodec } from './properties-codec.ts'

const readStored = amqpPropertiesCodec.readStored as NonNullable<typeof amqpPropertiesCodec.readStored>
const hexOf = (p: Parameters<typeof amqpPropertiesCodec.encode>[0]): string => amqpPropertiesCodec.encode(p).toString('hex').toUpperCase()

test("an MQTT message's list read back twice is one shared, frozen object with the bytes it was stored as", () => {
  const hex = hexOf({ deliveryMode: 2, headers: { 'x-mqtt-publish-qos': 1 } })
  const first = readStored(hex)
  assert.equal(readStored(hex), first)
  assert.ok(Object.isFrozen(first.properties))
  assert.deepEqual(first.properties, { deliveryMode: 2, headers: { 'x-mqtt-publish-qos': 1 } })
  assert.equal(first.bytes.toString('hex').toUpperCase(), hex)
})

test('a list with a per-message property is decoded for each message, into bytes of its own (not a pool slice)', () => {
  const hex = hexOf({ deliveryMode: 2, correlationId: 'c-17', headers: { plant: 'north' } })
  const first = readStored(hex)
  const second = readStored(hex)
  assert.notEqual(second, first)
  assert.deepEqual(second.properties, first.properties)
  assert.deepEqual(first.properties, { deliveryMode: 2, correlationId: 'c-17', headers: { plant: 'north' } })
  assert.equal(first.bytes.toString('hex').toUpperCase(), hex)
  assert.equal(first.bytes.buffer.byteLength, first.bytes.length, 'an allocation of its own')
})
