import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FrameReader, type ReaderItem } from './frame-reader.ts'
import { AmqpCodecError, ProtocolHeaderError } from './codec-error.ts'
import { Methods, encodeMethod } from './amqp-defs.ts'
import { HEARTBEAT_FRAME, PROTOCOL_HEADER, bodyFrames, contentFrames } from './frame-writer.ts'

/** A connection's worth of client traffic: handshake, publishes with content, acks, heartbeats. */
function clientStream(): Buffer {
  const body = Buffer.alloc(10000, 'abcdefghij')
  return Buffer.concat([
    PROTOCOL_HEADER,
    encodeMethod(Methods.ConnectionStartOk, 0, {
      clientProperties: { product: 'test' },
      mechanism: 'PLAIN',
      response: Buffer.from('\0guest\0guest'),
      locale: 'en_US'
    }),
    encodeMethod(Methods.ConnectionTuneOk, 0, { channelMax: 2047, frameMax: 4096, heartbeat: 60 }),
    encodeMethod(Methods.ConnectionOpen, 0, { virtualHost: '/' }),
    encodeMethod(Methods.ChannelOpen, 1, {}),
    ...contentFrames(
      1,
      Methods.BasicPublish,
      { exchange: 'amq.topic', routingKey: 'a.b', mandatory: false, immediate: false },
      { deliveryMode: 2, headers: { n: 1 } },
      body,
      4096
    ),
    HEARTBEAT_FRAME,
    ...contentFrames(2, Methods.BasicPublish, { exchange: '', routingKey: 'q', mandatory: true, immediate: false }, {}, Buffer.alloc(0), 4096),
    encodeMethod(Methods.BasicAck, 2, { deliveryTag: 1, multiple: false }),
    ...bodyFrames(65535, Buffer.from('x'), 4096), // an odd but well-formed frame on the top channel
    HEARTBEAT_FRAME
  ])
}

interface Plain {
  type: string
  channel?: number
  payload?: string
}

function plain(item: ReaderItem): Plain {
  return item.type === 'protocol-header' ? { type: item.type } : { type: item.type, channel: item.channel, payload: item.payload.toString('hex') }
}

/** Feeds the chunks one by one, draining after each, as a socket 'data' handler would. */
function readAll(chunks: readonly Buffer[], reader = new FrameReader()): Plain[] {
  const items: Plain[] = []
  for (const chunk of chunks) {
    reader.push(chunk)
    for (const item of reader) items.push(plain(item))
  }
  assert.equal(reader.bufferedBytes, 0, 'nothing left over')
  return items
}

function codecError(fn: () => unknown): AmqpCodecError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof AmqpCodecError, `AmqpCodecError expected, got ${String(err)}`)
    return err
  }
  assert.fail('expected an AmqpCodecError')
}

function frame(type: number, channel: number, payload: Buffer, end = 0xce): Buffer {
  const out = Buffer.alloc(8 + payload.length)
  out[0] = type
  out.writeUInt16BE(channel, 1)
  out.writeUInt32BE(payload.length, 3)
  payload.copy(out, 7)
  out[out.length - 1] = end
  return out
}

test('a whole stream in one chunk yields every frame in order', () => {
  const items = readAll([clientStream()])
  assert.deepEqual(
    items.map(item => `${item.type}@${item.channel ?? '-'}`),
    [
      'protocol-header@-',
      'method@0',
      'method@0',
      'method@0',
      'method@1',
      'method@1',
      'header@1',
      'body@1',
      'body@1',
      'body@1',
      'heartbeat@0',
      'method@2',
      'header@2',
      'method@2',
      'body@65535',
      'heartbeat@0'
    ]
  )
})

test('split at every byte position the stream yields identical frames', () => {
  const stream = clientStream()
  const expected = readAll([stream])
  for (let at = 0; at <= stream.length; at++) {
    assert.deepEqual(readAll([stream.subarray(0, at), stream.subarray(at)]), expected, `split at ${at}`)
  }
})

test('one byte at a time, and seeded random chunkings, yield identical frames', () => {
  const stream = clientStream()
  const expected = readAll([stream])
  assert.deepEqual(readAll(Array.from(stream, (_, i) => stream.subarray(i, i + 1))), expected)
  let seed = 0x2545f491
  const random = (): number => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) / 0x100000000
  }
  for (let trial = 0; trial < 200; trial++) {
    const chunks: Buffer[] = []
    for (let at = 0; at < stream.length; ) {
      const size = 1 + Math.floor(random() * (trial % 2 === 0 ? 40 : 6000))
      chunks.push(stream.subarray(at, at + size))
      at += size
    }
    assert.deepEqual(readAll(chunks), expected, `trial ${trial}`)
  }
})

test('whole frames in one chunk are views of that chunk, not copies', () => {
  const stream = clientStream()
  const reader = new FrameReader()
  reader.push(stream)
  let frames = 0
  for (const item of reader) {
    if (item.type === 'protocol-header') continue
    assert.equal(item.payload.buffer, stream.buffer)
    frames++
  }
  assert.equal(frames, 15)
})

test('a frame straddling chunks is copied once, later frames in the chunk are views again', () => {
  const a = encodeMethod(Methods.BasicAck, 1, { deliveryTag: 1, multiple: false })
  const b = encodeMethod(Methods.BasicAck, 1, { deliveryTag: 2, multiple: true })
  const both = Buffer.concat([a, b])
  const second = both.subarray(5) // a is split 5 | rest; b lies wholly inside `second`
  const reader = new FrameReader({ expectProtocolHeader: false })
  reader.push(both.subarray(0, 5))
  assert.equal(reader.read(), undefined)
  reader.push(second)
  const first = reader.read()
  const next = reader.read()
  assert.ok(first !== undefined && first.type === 'method' && next !== undefined && next.type === 'method')
  assert.deepEqual(first.payload, a.subarray(7, a.length - 1))
  assert.equal(next.payload.buffer, second.buffer)
  assert.deepEqual(next.payload, b.subarray(7, b.length - 1))
})

test('the protocol header is recognised even split byte by byte', () => {
  const reader = new FrameReader()
  for (let i = 0; i < 7; i++) {
    reader.push(PROTOCOL_HEADER.subarray(i, i + 1))
    assert.equal(reader.read(), undefined)
  }
  reader.push(PROTOCOL_HEADER.subarray(7))
  assert.deepEqual(reader.read(), { type: 'protocol-header' })
  assert.equal(reader.read(), undefined)
})

test('a wrong protocol header is reported with the bytes received', () => {
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.from('AMQP\x00\x00\x09\x00'), /41 4d 51 50 00 00 09 00 \("AMQP\\x00\\x00\\x09\\x00"\)/],
    [Buffer.from('AMQP\x03\x01\x00\x00'), /"AMQP\\x03\\x01\\x00\\x00"/], // AMQP 1.0 SASL
    [Buffer.from('GET / HTTP/1.1\r\n'), /47 45 54 20 2f 20 48 54 \("GET \/ HT"\)/]
  ]
  for (const [bytes, pattern] of cases) {
    const reader = new FrameReader()
    reader.push(bytes)
    assert.throws(
      () => reader.read(),
      (err: unknown) => {
        assert.ok(err instanceof ProtocolHeaderError)
        assert.deepEqual(err.received, bytes.subarray(0, 8))
        assert.match(err.message, /^amqp frame: bad protocol header /)
        assert.match(err.message, pattern)
        return true
      }
    )
  }
})

test('a frame-end octet other than 0xce is 501 FRAME_ERROR, after the good frames before it', () => {
  const good = encodeMethod(Methods.ChannelOpen, 1, {})
  const bad = Buffer.from(encodeMethod(Methods.ChannelOpen, 2, {}))
  bad[bad.length - 1] = 0x41
  const reader = new FrameReader({ expectProtocolHeader: false })
  reader.push(Buffer.concat([good, bad, good]))
  assert.equal(reader.read()?.type, 'method')
  const err = codecError(() => reader.read())
  assert.equal(err.replyCode, 501)
  assert.match(err.message, /^amqp frame: method frame on channel 2 \(payload 5 bytes\) ends with 0x41, expected frame-end 0xce$/)
  assert.equal(
    codecError(() => reader.read()),
    err,
    'the reader stays failed'
  )
  reader.push(good)
  assert.equal(
    codecError(() => reader.read()),
    err
  )
})

test('a frame larger than frame-max is 501 FRAME_ERROR as soon as its header arrives', () => {
  const reader = new FrameReader({ expectProtocolHeader: false })
  reader.push(Buffer.from([3, 0, 1, 0, 0, 0x10, 0x01])) // body frame, payload 4097: 4105 > 4096 + 8 tolerance
  const err = codecError(() => reader.read())
  assert.equal(err.replyCode, 501)
  assert.equal(err.message, 'amqp frame: body frame on channel 1 of 4105 bytes (payload 4097) exceeds frame-max 4096')
})

test("frame-max: exact fit and RabbitMQ's 8-byte tolerance pass; a raised limit applies to the next frame", () => {
  const reader = new FrameReader({ expectProtocolHeader: false })
  reader.push(frame(3, 1, Buffer.alloc(4088))) // exactly frame-max
  reader.push(frame(3, 1, Buffer.alloc(4096))) // 8 over: tolerated, as RabbitMQ does
  reader.push(frame(3, 1, Buffer.alloc(100000)))
  assert.equal(reader.read()?.type, 'body')
  assert.equal(reader.read()?.type, 'body')
  reader.setFrameMax(131072) // connection.tune-ok handled between frames
  const big = reader.read()
  assert.ok(big !== undefined && big.type === 'body')
  assert.equal(big.payload.length, 100000)
  assert.throws(() => reader.setFrameMax(0), RangeError)
  assert.throws(() => reader.setFrameMax(4095), RangeError)
  assert.throws(() => new FrameReader({ frameMax: 2 ** 32 }), RangeError)
})

test('a partial frame buffers at most one frame', () => {
  const reader = new FrameReader({ expectProtocolHeader: false, frameMax: 131072 })
  const whole = frame(3, 1, Buffer.alloc(100000, 7))
  for (let at = 0; at < whole.length - 1; at += 1000) {
    reader.push(whole.subarray(at, Math.min(at + 1000, whole.length - 1)))
    assert.equal(reader.read(), undefined)
  }
  assert.equal(reader.bufferedBytes, whole.length - 1)
  reader.push(whole.subarray(whole.length - 1))
  const item = reader.read()
  assert.ok(item !== undefined && item.type === 'body')
  assert.deepEqual(item.payload, Buffer.alloc(100000, 7))
  assert.equal(reader.bufferedBytes, 0)
})

test('unknown frame types are 501 FRAME_ERROR', () => {
  for (const type of [0, 4, 7, 9, 0x47, 0xff]) {
    const reader = new FrameReader({ expectProtocolHeader: false })
    reader.push(frame(type, 0, Buffer.alloc(4)))
    const err = codecError(() => reader.read())
    assert.equal(err.replyCode, 501)
    assert.match(err.message, new RegExp(`^amqp frame: unknown frame type ${type} \\(0x[0-9a-f]{2}\\) on channel 0$`))
  }
})

test('heartbeats: empty on channel 0 pass; a payload is 501, another channel 505 UNEXPECTED_FRAME', () => {
  assert.deepEqual(readAll([HEARTBEAT_FRAME], new FrameReader({ expectProtocolHeader: false })), [{ type: 'heartbeat', channel: 0, payload: '' }])
  const withPayload = new FrameReader({ expectProtocolHeader: false })
  withPayload.push(frame(8, 0, Buffer.from([1])))
  assert.equal(codecError(() => withPayload.read()).replyCode, 501)
  const onChannel = new FrameReader({ expectProtocolHeader: false })
  onChannel.push(frame(8, 3, Buffer.alloc(0)))
  const err = codecError(() => onChannel.read())
  assert.equal(err.replyCode, 505)
  assert.match(err.message, /heartbeat frame on channel 3/)
})

test('method and header frames too short for their fixed fields are 501 FRAME_ERROR', () => {
  for (const [type, size] of [
    [1, 3],
    [2, 13]
  ] as const) {
    const reader = new FrameReader({ expectProtocolHeader: false })
    reader.push(frame(type, 1, Buffer.alloc(size)))
    const err = codecError(() => reader.read())
    assert.equal(err.replyCode, 501)
    assert.match(err.message, /-byte payload, at least (4|14) expected$/)
  }
})
