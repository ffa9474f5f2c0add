import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BASIC_CLASS_ID, Methods, decodeContentHeader, decodeMethodFrame, decodeProperties, encodeProperties } from '../../amqp/codec/amqp-defs.ts'
import { contentFrames } from '../../amqp/codec/frame-writer.ts'
import type { Frame } from '../../amqp/codec/frame-reader.ts'
import { framesOf } from '../../../test/support/amqp-frames.ts'
import { Message } from '../../../core/model/message.ts'
import { VIA_HEADER } from '../loop-marks.ts'
import { UplinkPropertyCache, uplinkProperties } from './amqp-message.ts'
import { PublishFrames } from './amqp-publish-frames.ts'
import { isPermanentRefusal } from './message-refusal.ts'

const publish = { ticket: 0, exchange: 'amq.topic', routingKey: 'sensors.é.t', mandatory: true, immediate: false }
const properties = encodeProperties(BASIC_CLASS_ID, { deliveryMode: 2, headers: { [VIA_HEADER]: 'n1' } })

test('a publish is the bytes of the generated codebook: method, content header, body frames split at frame-max', () => {
  for (const frameMax of [4096, 131072]) {
    const frames = new PublishFrames(5, 'amq.topic', frameMax)
    for (const size of [0, 1, 64, 4088, 4089, 8192, 8193, 20000, 300000]) {
      const body = Buffer.alloc(size)
      for (let i = 0; i < size; i++) body[i] = (i * 7) & 0xff
      const encoded = frames.encode(publish.routingKey, properties, body)
      const expected = contentFrames(5, Methods.BasicPublish, publish, properties, body, frameMax)
      assert.deepEqual(Buffer.concat(encoded), Buffer.concat(expected), `${size} bytes at frame-max ${frameMax}`)
      const decoded = framesOf(encoded, frameMax)
      assert.ok(decoded.every(f => f.channel === 5 && f.payload.length + 8 <= frameMax))
      assert.deepEqual(decodeMethodFrame((decoded[0] as Frame).payload).fields, publish)
      const header = decodeContentHeader((decoded[1] as Frame).payload)
      assert.equal(header.bodySize, size)
      assert.deepEqual(decodeProperties(BASIC_CLASS_ID, header.properties), { deliveryMode: 2, headers: { [VIA_HEADER]: 'n1' } })
      assert.deepEqual(Buffer.concat(decoded.slice(2).map(f => f.payload)), body)
    }
  }
})

test('a routing key or content header that AMQP cannot carry is a permanent refusal', () => {
  const frames = new PublishFrames(1, '', 4096)
  assert.throws(() => frames.encode('k'.repeat(256), properties, Buffer.alloc(1)), isPermanentRefusal)
  assert.throws(() => frames.encode('k', Buffer.alloc(4090), Buffer.alloc(1)), isPermanentRefusal)
  assert.equal(Buffer.concat(frames.encode('k'.repeat(255), properties, Buffer.alloc(1))).length > 255, true)
})

test('uplink properties: encoded once per distinct stored properties, the same bytes as encoding them anew', () => {
  const cache = new UplinkPropertyCache('n1')
  const stored = encodeProperties(BASIC_CLASS_ID, { contentType: 'text/plain', deliveryMode: 2, userId: 'edge', headers: { a: 1, 'x-wharf-bridge': 'down' } })
  const message = (bytes: Buffer): Message => new Message('amq.topic', 'a.b', decodeProperties(BASIC_CLASS_ID, bytes), Buffer.from('x'), 1000, bytes)
  const first = cache.encoded(message(stored), 2000)
  assert.equal(cache.encoded(message(Buffer.from(stored)), 3000), first, 'the same properties: the cached bytes')
  const m = message(stored)
  assert.deepEqual(decodeProperties(BASIC_CLASS_ID, first), { contentType: 'text/plain', deliveryMode: 2, headers: { a: 1, [VIA_HEADER]: 'n1' } })
  assert.deepEqual(first, encodeProperties(BASIC_CLASS_ID, uplinkProperties(m, { a: 1, [VIA_HEADER]: 'n1' }, 2000)))
  const other = cache.encoded(message(encodeProperties(BASIC_CLASS_ID, { deliveryMode: 1 })), 2000)
  assert.deepEqual(decodeProperties(BASIC_CLASS_ID, other), { deliveryMode: 1, headers: { [VIA_HEADER]: 'n1' } })
})

test('uplink properties: an expiration is what is left of the TTL at each send, never cached', () => {
  const cache = new UplinkPropertyCache('n1')
  const bytes = encodeProperties(BASIC_CLASS_ID, { expiration: '5000' })
  const m = new Message('amq.topic', 'a', decodeProperties(BASIC_CLASS_ID, bytes), Buffer.alloc(0), 1000, bytes)
  assert.equal(decodeProperties(BASIC_CLASS_ID, cache.encoded(m, 2000)).expiration, '4000')
  assert.equal(decodeProperties(BASIC_CLASS_ID, cache.encoded(m, 4500)).expiration, '1500')
  const frozen = Object.freeze({ deliveryMode: 2 })
  const a = cache.encoded(new Message('amq.topic', 'a', frozen, Buffer.alloc(0), 0, null), 0)
  assert.equal(cache.encoded(new Message('amq.topic', 'b', frozen, Buffer.alloc(0), 0, null), 0), a, 'shared frozen properties: cached')
})
