import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BODY_COPY_BYTES_MAX, HEARTBEAT_FRAME, PROTOCOL_HEADER, bodyFrames, contentFrames, contentHeaderFrame, methodFrame } from './frame-writer.ts'
import type { Frame } from './frame-reader.ts'
import { framesOf } from '../../../test/support/amqp-frames.ts'
import { Methods, decodeContentHeader, decodeMethodFrame, decodeProperties, encodeContentHeader, type BasicProperties } from './amqp-defs.ts'
import { AmqpCodecError } from './codec-error.ts'

test("protocol header and heartbeat bytes are the spec's", () => {
  assert.deepEqual(PROTOCOL_HEADER, Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'))
  assert.deepEqual(HEARTBEAT_FRAME, Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]))
  assert.deepEqual(framesOf([HEARTBEAT_FRAME]), [{ type: 'heartbeat', channel: 0, payload: Buffer.alloc(0) }])
})

test('a body is split into frames of at most frame-max bytes and reassembles exactly', () => {
  for (const frameMax of [4096, 8192 + 8, 131072]) {
    const sliceMax = frameMax - 8
    for (const size of [0, 1, sliceMax - 1, sliceMax, sliceMax + 1, 2 * sliceMax, 3 * sliceMax + 17, 300000]) {
      const body = Buffer.alloc(size)
      for (let i = 0; i < size; i++) body[i] = (i * 31) & 0xff
      const buffers = bodyFrames(9, body, frameMax)
      const frames = framesOf(buffers, frameMax)
      assert.equal(frames.length, Math.ceil(size / sliceMax), `${size} bytes at frame-max ${frameMax}`)
      for (const f of frames) {
        assert.equal(f.type, 'body')
        assert.equal(f.channel, 9)
        assert.ok(f.payload.length + 8 <= frameMax)
      }
      assert.deepEqual(Buffer.concat(frames.map(f => f.payload)), body)
    }
  }
})

test('large body slices are framed around views of the body; small ones are one buffer per frame', () => {
  const body = Buffer.alloc(50000, 1)
  const large = bodyFrames(1, body, 131072)
  assert.equal(large.length, 3)
  assert.equal(large[1]?.buffer, body.buffer, 'the body itself, not a copy')
  assert.equal(large[1]?.length, 50000)
  const small = bodyFrames(1, body.subarray(0, BODY_COPY_BYTES_MAX), 131072)
  assert.equal(small.length, 1)
  assert.equal(small[0]?.length, BODY_COPY_BYTES_MAX + 8)
})

test('content frames: method, header with body size, body frames; raw properties forwarded byte for byte', () => {
  const properties: BasicProperties = { contentType: 'text/plain', deliveryMode: 2, headers: { 'x-mqtt-retain': true, hops: [1, 2] }, timestamp: 1700000000 }
  const body = Buffer.from('hello '.repeat(2000))
  const deliver = { consumerTag: 'ctag', deliveryTag: 42, redelivered: false, exchange: 'amq.topic', routingKey: 'a.b' }
  const decoded = framesOf(contentFrames(3, Methods.BasicDeliver, deliver, properties, body, 4096), 4096)
  assert.deepEqual(
    decoded.map(f => f.type),
    ['method', 'header', 'body', 'body', 'body']
  )
  assert.ok(decoded.every(f => f.channel === 3))
  const method = decodeMethodFrame((decoded[0] as Frame).payload)
  assert.equal(method.name, 'BasicDeliver')
  assert.deepEqual(method.fields, deliver)
  const header = decodeContentHeader((decoded[1] as Frame).payload)
  assert.equal(header.bodySize, body.length)
  assert.deepEqual(decodeProperties(header.classId, header.properties), properties)
  assert.deepEqual(Buffer.concat(decoded.slice(2).map(f => f.payload)), body)

  // a publisher's raw property bytes, forwarded: the same header frame as encoding them
  assert.deepEqual(contentHeaderFrame(3, 60, body.length, Buffer.from(header.properties)), encodeContentHeader(3, 60, body.length, properties))
  const forwarded = framesOf(contentFrames(3, Methods.BasicDeliver, deliver, header.properties, body, 4096), 4096)
  assert.deepEqual(forwarded, decoded)
})

test('an empty body is a method and a header frame only', () => {
  const frames = framesOf(
    contentFrames(1, Methods.BasicGetOk, { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q', messageCount: 0 }, {}, Buffer.alloc(0), 4096)
  )
  assert.deepEqual(
    frames.map(f => f.type),
    ['method', 'header']
  )
  assert.equal(decodeContentHeader((frames[1] as Frame).payload).bodySize, 0)
})

test('a content header that cannot fit in frame-max is refused, and frame-max is checked', () => {
  const properties: BasicProperties = { headers: { big: 'x'.repeat(5000) } }
  assert.throws(
    () =>
      contentFrames(
        1,
        Methods.BasicDeliver,
        { consumerTag: 'c', deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q' },
        properties,
        Buffer.alloc(1),
        4096
      ),
    (err: unknown) => err instanceof AmqpCodecError && /frame of \d+ bytes exceeds frame-max 4096/.test(err.message)
  )
  assert.throws(() => bodyFrames(1, Buffer.alloc(1), 0), RangeError)
  assert.throws(() => bodyFrames(1, Buffer.alloc(1), 100), RangeError)
})

test('methodFrame is a complete method frame', () => {
  const frames = framesOf([methodFrame(0, Methods.ConnectionTune, { channelMax: 2047, frameMax: 131072, heartbeat: 60 })])
  assert.equal(frames.length, 1)
  assert.deepEqual(decodeMethodFrame((frames[0] as Frame).payload).fields, { channelMax: 2047, frameMax: 131072, heartbeat: 60 })
})
