import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Methods,
  decodeContentHeader,
  decodeMethod,
  decodeMethodFrame,
  decodeProperties,
  encodeContentHeader,
  encodeMethod,
  encodeProperties,
  info,
  methodName,
  type BasicProperties,
  type DecodedMethod,
  type FieldTable,
  type MethodFieldsByName,
  type MethodId,
  type MethodName
} from './amqp-defs.ts'
import { AmqpCodecError } from './codec-error.ts'
import { FrameReader, type Frame } from './frame-reader.ts'
import { FRAME_MAX_LIMIT } from './frame-format.ts'

const table: FieldTable = {
  product: 'Wharf',
  'x-message-ttl': 60000,
  negative: -5,
  short: 1000,
  long: 2 ** 40,
  ratio: 0.25,
  flag: true,
  off: false,
  nothing: null,
  bytes: Buffer.from([0, 1, 254, 255]),
  list: [1, 'two', [3], { four: 4 }, null],
  nested: { capabilities: { 'basic.nack': true, deeper: { level: 3 } } },
  when: { '!': 'timestamp', value: 1700000000 },
  price: { '!': 'decimal', value: { places: 2, digits: 1999 } },
  unicode: 'ünïcødé ✓'
}

// Every method with every field set (non-default values where the type allows), so a
// field missing from the TS interface or from amqplib shows up as a deepEqual failure.
// The mapped type makes the compiler insist on one sample per method.
const samples: { readonly [N in MethodName]: MethodFieldsByName[N] } = {
  ConnectionStart: { versionMajor: 0, versionMinor: 9, serverProperties: table, mechanisms: Buffer.from('PLAIN AMQPLAIN'), locales: Buffer.from('en_US') },
  ConnectionStartOk: {
    clientProperties: { product: 'amqplib', capabilities: { publisher_confirms: true } },
    mechanism: 'PLAIN',
    response: Buffer.from('\0guest\0guest'),
    locale: 'en_US'
  },
  ConnectionSecure: { challenge: Buffer.from('challenge') },
  ConnectionSecureOk: { response: Buffer.from([0, 1, 2]) },
  ConnectionTune: { channelMax: 2047, frameMax: 131072, heartbeat: 60 },
  ConnectionTuneOk: { channelMax: 1024, frameMax: 65536, heartbeat: 30 },
  ConnectionOpen: { virtualHost: '/tenant', capabilities: '', insist: true },
  ConnectionOpenOk: { knownHosts: '' },
  ConnectionClose: { replyCode: 320, replyText: 'CONNECTION_FORCED - shutdown', classId: 0, methodId: 0 },
  ConnectionCloseOk: {},
  ConnectionBlocked: { reason: 'low on disk' },
  ConnectionUnblocked: {},
  ConnectionUpdateSecret: { newSecret: Buffer.from('token'), reason: 'refresh' },
  ConnectionUpdateSecretOk: {},
  ChannelOpen: { outOfBand: '' },
  ChannelOpenOk: { channelId: Buffer.alloc(0) },
  ChannelFlow: { active: false },
  ChannelFlowOk: { active: true },
  ChannelClose: { replyCode: 404, replyText: "NOT_FOUND - no queue 'q' in vhost '/'", classId: 50, methodId: 10 },
  ChannelCloseOk: {},
  AccessRequest: { realm: '/data', exclusive: true, passive: false, active: true, write: false, read: true },
  AccessRequestOk: { ticket: 1 },
  ExchangeDeclare: {
    ticket: 3,
    exchange: 'logs',
    type: 'topic',
    passive: false,
    durable: true,
    autoDelete: false,
    internal: true,
    nowait: false,
    arguments: { 'alternate-exchange': 'ae' }
  },
  ExchangeDeclareOk: {},
  ExchangeDelete: { ticket: 0, exchange: 'logs', ifUnused: true, nowait: false },
  ExchangeDeleteOk: {},
  ExchangeBind: { ticket: 0, destination: 'dst', source: 'src', routingKey: 'a.#', nowait: true, arguments: {} },
  ExchangeBindOk: {},
  ExchangeUnbind: { ticket: 0, destination: 'dst', source: 'src', routingKey: 'a.*', nowait: false, arguments: { k: 1 } },
  ExchangeUnbindOk: {},
  QueueDeclare: {
    ticket: 0,
    queue: 'orders',
    passive: false,
    durable: true,
    exclusive: false,
    autoDelete: true,
    nowait: false,
    arguments: { 'x-max-length': 1000, 'x-overflow': 'reject-publish', 'x-queue-type': 'classic' }
  },
  QueueDeclareOk: { queue: 'amq.gen-abc', messageCount: 4294967295, consumerCount: 7 },
  QueueBind: { ticket: 0, queue: 'orders', exchange: 'amq.topic', routingKey: 'sensor.*.temp', nowait: false, arguments: { 'x-match': 'any' } },
  QueueBindOk: {},
  QueuePurge: { ticket: 0, queue: 'orders', nowait: true },
  QueuePurgeOk: { messageCount: 12 },
  QueueDelete: { ticket: 0, queue: 'orders', ifUnused: false, ifEmpty: true, nowait: false },
  QueueDeleteOk: { messageCount: 0 },
  QueueUnbind: { ticket: 0, queue: 'orders', exchange: 'amq.topic', routingKey: 'sensor.#', arguments: {} },
  QueueUnbindOk: {},
  BasicQos: { prefetchSize: 0, prefetchCount: 250, global: true },
  BasicQosOk: {},
  BasicConsume: {
    ticket: 0,
    queue: 'orders',
    consumerTag: 'ctag-1',
    noLocal: false,
    noAck: true,
    exclusive: false,
    nowait: true,
    arguments: { 'x-stream-offset': 'first', 'x-priority': 5 }
  },
  BasicConsumeOk: { consumerTag: 'amq.ctag-xyz' },
  BasicCancel: { consumerTag: 'ctag-1', nowait: true },
  BasicCancelOk: { consumerTag: 'ctag-1' },
  BasicPublish: { ticket: 0, exchange: 'amq.topic', routingKey: 'a.b.c', mandatory: true, immediate: false },
  BasicReturn: { replyCode: 312, replyText: 'NO_ROUTE', exchange: 'amq.direct', routingKey: 'nowhere' },
  BasicDeliver: { consumerTag: 'ctag-1', deliveryTag: 2 ** 40 + 3, redelivered: true, exchange: '', routingKey: 'orders' },
  BasicGet: { ticket: 0, queue: 'orders', noAck: false },
  BasicGetOk: { deliveryTag: 9, redelivered: false, exchange: 'ex', routingKey: 'rk', messageCount: 41 },
  BasicGetEmpty: { clusterId: '' },
  BasicAck: { deliveryTag: 17, multiple: true },
  BasicReject: { deliveryTag: 18, requeue: false },
  BasicRecoverAsync: { requeue: true },
  BasicRecover: { requeue: false },
  BasicRecoverOk: {},
  BasicNack: { deliveryTag: 19, multiple: false, requeue: true },
  TxSelect: {},
  TxSelectOk: {},
  TxCommit: {},
  TxCommitOk: {},
  TxRollback: {},
  TxRollbackOk: {},
  ConfirmSelect: { nowait: false },
  ConfirmSelectOk: {}
}

const allNames = Object.keys(Methods) as MethodName[]

function frameOf(bytes: Buffer): Frame {
  const reader = new FrameReader({ expectProtocolHeader: false, frameMax: FRAME_MAX_LIMIT })
  reader.push(bytes)
  const item = reader.read()
  assert.ok(item !== undefined && item.type !== 'protocol-header', 'one whole frame')
  assert.equal(reader.read(), undefined)
  assert.equal(reader.bufferedBytes, 0)
  return item
}

function encodeSample(name: MethodName, channel: number): Buffer {
  // the name→id→fields link is checked by the compiler at real call sites; here the
  // loop variable widens it, so assert the pairing instead
  return encodeMethod(Methods[name] as MethodId, channel, samples[name] as never)
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

test('every method round-trips: encode → frame → reader → decode, equal fields', () => {
  assert.equal(allNames.length, 66)
  for (const [index, name] of allNames.entries()) {
    const channel = index % 3 === 0 ? 0 : index * 97
    const frame = frameOf(encodeSample(name, channel))
    assert.equal(frame.type, 'method')
    assert.equal(frame.channel, channel)
    const decoded: DecodedMethod = decodeMethodFrame(frame.payload)
    assert.equal(decoded.id, Methods[name])
    assert.equal(decoded.name, name)
    assert.deepEqual(decoded.fields, samples[name], name)
  }
})

test('decoded methods narrow by name', () => {
  const decoded = decodeMethodFrame(frameOf(encodeMethod(Methods.BasicPublish, 1, samples.BasicPublish)).payload)
  assert.equal(decoded.name, 'BasicPublish')
  if (decoded.name === 'BasicPublish') assert.equal(decoded.fields.routingKey, 'a.b.c') // typed access
})

test('reserved fields may be omitted when encoding and decode to their defaults', () => {
  const frame = frameOf(encodeMethod(Methods.ConnectionOpenOk, 0, {}))
  assert.deepEqual(decodeMethodFrame(frame.payload).fields, { knownHosts: '' })
  const publish = frameOf(encodeMethod(Methods.BasicPublish, 1, { exchange: 'x', routingKey: 'k', mandatory: false, immediate: false }))
  assert.deepEqual(decodeMethodFrame(publish.payload).fields, { ticket: 0, exchange: 'x', routingKey: 'k', mandatory: false, immediate: false })
})

test('info and methodName describe every method', () => {
  const withContent = allNames.filter(name => info(Methods[name])?.hasContent === true).sort()
  assert.deepEqual(withContent, ['BasicDeliver', 'BasicGetOk', 'BasicPublish', 'BasicReturn'])
  for (const name of allNames) {
    const meta = info(Methods[name])
    assert.ok(meta !== undefined)
    assert.equal(meta.name, name)
    assert.equal((meta.classId << 16) | meta.methodId, meta.id)
    assert.match(meta.specName, /^[a-z]+\.[a-z]+(-[a-z]+)*$/)
    assert.deepEqual([...meta.fieldNames].sort(), Object.keys(samples[name]).sort(), name)
  }
  assert.equal(methodName(Methods.BasicPublish), 'basic.publish')
  assert.equal(methodName(Methods.ConnectionStartOk), 'connection.start-ok')
  assert.equal(methodName(Methods.BasicRecoverAsync), 'basic.recover-async')
  assert.equal(methodName(Methods.ExchangeUnbindOk), 'exchange.unbind-ok')
  assert.equal(methodName(0x003c00ff), '0x003c00ff')
  assert.equal(info(0x003c00ff), undefined)
})

test('an unknown class/method id is 540 NOT_IMPLEMENTED and names the id', () => {
  const err = codecError(() => decodeMethod(0x003c00ff, Buffer.alloc(0)))
  assert.equal(err.replyCode, 540)
  assert.equal(err.classId, 60)
  assert.equal(err.methodId, 255)
  assert.match(err.message, /^amqp codec: decode method 0x003c00ff: unknown class 60 method 255$/)
})

test('every truncation of every method is a 501 FRAME_ERROR, never a silent short decode', () => {
  for (const name of allNames) {
    const args = frameOf(encodeSample(name, 1)).payload.subarray(4)
    for (let length = 0; length < args.length; length++) {
      const err = codecError(() => decodeMethod(Methods[name], args.subarray(0, length)))
      assert.equal(err.replyCode, 501)
      assert.ok(
        err.message.startsWith(`amqp codec: decode method 0x${Methods[name].toString(16).padStart(8, '0')}: ${methodName(Methods[name])} `),
        err.message
      )
    }
  }
})

test('bytes after the last field are a 501 FRAME_ERROR', () => {
  const args = frameOf(encodeMethod(Methods.BasicPublish, 1, samples.BasicPublish)).payload.subarray(4)
  const err = codecError(() => decodeMethod(Methods.BasicPublish, Buffer.concat([args, Buffer.from([0])])))
  assert.equal(err.replyCode, 501)
  assert.equal(err.message, 'amqp codec: decode method 0x003c0028: basic.publish has 1 bytes after the last field')
})

test("a bad field-table value tag is a 501 FRAME_ERROR carrying amqplib's cause", () => {
  const args = Buffer.from(frameOf(encodeMethod(Methods.QueueDeclare, 1, { ...samples.QueueDeclare, arguments: { k: 1 } })).payload.subarray(4))
  // table: long length, shortstr key 'k', tag 'b', value 1 → replace the tag
  const tag = args.indexOf(Buffer.from([1, 0x6b, 0x62]))
  assert.ok(tag > 0)
  args[tag + 2] = 0x3f // '?'
  const err = codecError(() => decodeMethod(Methods.QueueDeclare, args))
  assert.equal(err.replyCode, 501)
  assert.match(err.message, /^amqp codec: decode method 0x0032000a: queue\.declare .*type tag/)
  assert.ok(err.cause instanceof Error)
})

test('values the wire cannot carry fail to encode with the method in the message', () => {
  const longKey = codecError(() => encodeMethod(Methods.BasicPublish, 1, { ...samples.BasicPublish, routingKey: 'k'.repeat(256) }))
  assert.equal(longKey.replyCode, 541)
  assert.match(longKey.message, /^amqp codec: encode method 0x003c0028: basic\.publish .*routingKey/)
  // amqplib encodes tables through a fixed 64 KiB scratch buffer
  const bigTable = codecError(() => encodeMethod(Methods.QueueDeclare, 1, { ...samples.QueueDeclare, arguments: { big: 'x'.repeat(70000) } }))
  assert.match(bigTable.message, /^amqp codec: encode method 0x0032000a: queue\.declare .*65536/)
})

const fullProperties: BasicProperties = {
  contentType: 'application/json',
  contentEncoding: 'gzip',
  headers: table,
  deliveryMode: 2,
  priority: 9,
  correlationId: 'corr-1',
  replyTo: 'amq.rabbitmq.reply-to',
  expiration: '60000',
  messageId: 'msg-1',
  timestamp: 1700000000,
  type: 'order.created',
  userId: 'guest',
  appId: 'wharf-test',
  clusterId: 'c1'
}

function headerRoundTrip(properties: BasicProperties, bodySize: number): { properties: BasicProperties; bodySize: number; raw: Buffer; frame: Buffer } {
  const bytes = encodeContentHeader(5, 60, bodySize, properties)
  const frame = frameOf(bytes)
  assert.equal(frame.type, 'header')
  assert.equal(frame.channel, 5)
  const header = decodeContentHeader(frame.payload)
  assert.equal(header.classId, 60)
  assert.equal(header.weight, 0)
  return { properties: decodeProperties(header.classId, header.properties), bodySize: header.bodySize, raw: header.properties, frame: bytes }
}

test('content header properties round-trip: every property, nested tables, arrays, longstr, byte arrays, timestamps, decimals', () => {
  const result = headerRoundTrip(fullProperties, 123456789)
  assert.equal(result.bodySize, 123456789)
  assert.deepEqual(result.properties, fullProperties)
})

test('absent properties stay absent keys', () => {
  assert.deepEqual(headerRoundTrip({}, 0).properties, {})
  const some: BasicProperties = { deliveryMode: 1, headers: {}, appId: 'a' }
  const decoded = headerRoundTrip(some, 3).properties
  assert.deepEqual(decoded, some)
  assert.deepEqual(Object.keys(decoded).sort(), ['appId', 'deliveryMode', 'headers'])
})

test('encodeProperties gives the raw flags + list that a header frame carries', () => {
  const { raw } = headerRoundTrip(fullProperties, 1)
  assert.deepEqual(encodeProperties(60, fullProperties), raw)
  assert.deepEqual(decodeProperties(60, encodeProperties(60, fullProperties)), fullProperties)
})

test('field-table types narrower than the JS value are decoded to plain numbers (why raw forwarding matters)', () => {
  const typed: BasicProperties = { headers: { u32: { '!': 'uint32', value: 7 }, i64: { '!': 'int64', value: 8 }, f: { '!': 'float', value: 0.5 } } }
  assert.deepEqual(headerRoundTrip(typed, 0).properties, { headers: { u32: 7, i64: 8, f: 0.5 } })
})

test('every truncation of a content header property list is a 501 FRAME_ERROR', () => {
  const { raw } = headerRoundTrip(fullProperties, 1)
  for (let length = 0; length < raw.length; length++) {
    const err = codecError(() => decodeProperties(60, raw.subarray(0, length)))
    assert.equal(err.replyCode, 501)
    assert.match(err.message, /^amqp codec: decode properties of class 60: /)
  }
  assert.equal(codecError(() => decodeProperties(60, Buffer.concat([raw, Buffer.from([1])]))).replyCode, 501)
})

test('content headers: other classes, short payloads and absurd body sizes are refused', () => {
  assert.equal(codecError(() => decodeProperties(50, Buffer.from([0, 0]))).replyCode, 501)
  assert.equal(codecError(() => decodeContentHeader(Buffer.alloc(13))).replyCode, 501)
  const huge = Buffer.alloc(14)
  huge.writeUInt16BE(60, 0)
  huge.writeBigUInt64BE(2n ** 63n, 4)
  assert.match(codecError(() => decodeContentHeader(huge)).message, /body size 9223372036854775808/)
  assert.equal(codecError(() => encodeContentHeader(1, 60, -1, {})).replyCode, 541)
  assert.equal(codecError(() => encodeContentHeader(1, 61, 0, {})).replyCode, 541)
})
