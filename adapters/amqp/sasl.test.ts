import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseSaslResponse } from './sasl.ts'

test('PLAIN: authzid NUL user NUL password; malformed responses give nothing', () => {
  assert.deepEqual(parseSaslResponse('PLAIN', Buffer.from('\0alice\0s3cr\u00e9t')), { username: 'alice', password: 's3cr\u00e9t' })
  assert.deepEqual(parseSaslResponse('PLAIN', Buffer.from('admin\0alice\0pw')), { username: 'alice', password: 'pw' })
  assert.equal(parseSaslResponse('PLAIN', Buffer.from('alice\0pw')), undefined)
  assert.equal(parseSaslResponse('PLAIN', Buffer.from('\0\0pw')), undefined)
  assert.equal(parseSaslResponse('EXTERNAL', Buffer.alloc(0)), undefined)
})

test('AMQPLAIN: a table body with LOGIN and PASSWORD, as amqplib encodes it', () => {
  // amqplib's credentials.amqplain: encodeTable(...) without the 4-byte length
  const table = Buffer.concat([
    Buffer.from([5]),
    Buffer.from('LOGIN'),
    Buffer.from('S'),
    u32(5),
    Buffer.from('alice'),
    Buffer.from([8]),
    Buffer.from('PASSWORD'),
    Buffer.from('S'),
    u32(2),
    Buffer.from('pw')
  ])
  assert.deepEqual(parseSaslResponse('AMQPLAIN', table), { username: 'alice', password: 'pw' })
  assert.equal(parseSaslResponse('AMQPLAIN', table.subarray(0, 10)), undefined)
  assert.equal(parseSaslResponse('AMQPLAIN', Buffer.from([1, 0x41, 0x53, 0, 0, 0, 1, 0x78])), undefined, 'no LOGIN')
})

function u32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
