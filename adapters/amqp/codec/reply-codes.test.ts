import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as codes from './reply-codes.ts'
import { Methods, encodeMethod } from './amqp-defs.ts'

const require = createRequire(import.meta.url)
// amqplib's generated constants, loaded by path (its exports map hides lib/)
const amqplibConstants = (require(join(dirname(require.resolve('amqplib')), 'lib', 'defs.js')) as { constants: Record<string, number> }).constants

test("every spec reply code is defined, with amqplib's value", () => {
  const framing = new Set(['FRAME_METHOD', 'FRAME_HEADER', 'FRAME_BODY', 'FRAME_HEARTBEAT', 'FRAME_MIN_SIZE', 'FRAME_END'])
  const specNames = Object.keys(amqplibConstants).filter(name => !framing.has(name))
  assert.equal(specNames.length, 19)
  for (const name of specNames) {
    assert.equal((codes as unknown as Record<string, unknown>)[name], amqplibConstants[name], name)
    assert.equal(codes.replyCodeInfo(amqplibConstants[name] as number)?.name, name)
  }
  assert.equal(codes.replyCodes.length, 19)
})

test('soft errors close the channel, hard errors the connection', () => {
  for (const code of [311, 312, 313, 403, 404, 405, 406]) {
    assert.ok(codes.isChannelException(code), String(code))
    assert.ok(!codes.isConnectionException(code), String(code))
  }
  for (const code of [320, 402, 501, 502, 503, 504, 505, 506, 530, 540, 541]) {
    assert.ok(codes.isConnectionException(code), String(code))
    assert.ok(!codes.isChannelException(code), String(code))
  }
  assert.equal(codes.replyCodeInfo(200)?.scope, 'reply')
  assert.equal(codes.replyCodeInfo(999), undefined)
  assert.ok(!codes.isChannelException(999) && !codes.isConnectionException(999))
})

test('reply text is RabbitMQ-shaped and always fits a shortstr', () => {
  assert.equal(codes.formatReplyText(codes.NOT_FOUND, "no queue 'q' in vhost '/'"), "NOT_FOUND - no queue 'q' in vhost '/'")
  assert.equal(codes.formatReplyText(codes.REPLY_SUCCESS, ''), 'REPLY_SUCCESS')
  const long = codes.formatReplyText(codes.PRECONDITION_FAILED, 'é✓'.repeat(200))
  assert.ok(Buffer.byteLength(long) <= 255)
  assert.ok(!long.includes('\ufffd'), 'cut on a character boundary')
  assert.ok(long.startsWith('PRECONDITION_FAILED - é✓'))
  encodeMethod(Methods.ChannelClose, 1, { replyCode: 406, replyText: long, classId: 50, methodId: 10 })
})
