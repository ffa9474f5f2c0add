import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ContentAssembler } from './content-assembler.ts'
import { Methods, encodeContentHeader, encodeProperties } from './codec/amqp-defs.ts'
import type { Frame } from './codec/frame-reader.ts'
import { AmqpException } from './amqp-errors.ts'

const header = (size: number): Frame => {
  const bytes = encodeContentHeader(1, 60, size, { contentType: 'text/plain', headers: { a: 1 } })
  return { type: 'header', channel: 1, payload: bytes.subarray(7, bytes.length - 1) }
}
const body = (bytes: Buffer): Frame => ({ type: 'body', channel: 1, payload: bytes })

test('a body split into frames at every possible boundary assembles to the same bytes, properties kept raw', () => {
  const payload = Buffer.from('0123456789abcdef')
  for (let cut = 0; cut <= payload.length; cut++) {
    const a = new ContentAssembler(1000)
    a.begin(Methods.BasicPublish)
    assert.deepEqual(a.push(header(payload.length)), { done: false })
    const parts = [payload.subarray(0, cut), payload.subarray(cut)].filter(p => p.length > 0)
    let result
    for (const p of parts) result = a.push(body(p))
    assert.ok(result?.done === true)
    assert.deepEqual(result.content.body, payload)
    assert.deepEqual(result.content.properties, encodeProperties(60, { contentType: 'text/plain', headers: { a: 1 } }))
    assert.equal(a.active, false)
  }
})

test('an empty body completes at the header; wrong order, overlong bodies and oversize messages are refused with their codes', () => {
  const a = new ContentAssembler(10)
  a.begin(Methods.BasicPublish)
  const done = a.push(header(0))
  assert.ok(done.done && done.content.body.length === 0)
  const code = (fn: () => unknown): number => {
    try {
      fn()
      return 0
    } catch (err) {
      assert.ok(err instanceof AmqpException)
      return err.replyCode
    }
  }
  a.begin(Methods.BasicPublish)
  assert.equal(
    code(() => a.push(body(Buffer.from('x')))),
    505
  )
  a.begin(Methods.BasicPublish)
  a.push(header(2))
  assert.equal(
    code(() => a.push(header(2))),
    505
  )
  a.begin(Methods.BasicPublish)
  a.push(header(2))
  assert.equal(
    code(() => a.push(body(Buffer.from('abc')))),
    501
  )
  a.begin(Methods.BasicPublish)
  assert.equal(
    code(() => a.push(header(11))),
    406
  )
})
