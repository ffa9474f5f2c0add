import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ownedBytes } from './owned-bytes.ts'

test('a small view into a large chunk is copied into an allocation of its own; a buffer that is most of its allocation is kept', () => {
  const chunk = Buffer.alloc(16 * 1024, 7)
  const view = chunk.subarray(100, 164)
  const owned = ownedBytes(view)
  assert.deepEqual(owned, view)
  assert.equal(owned.buffer.byteLength, 64, 'the chunk is no longer referenced')
  const whole = Buffer.allocUnsafeSlow(64).fill(1)
  assert.equal(ownedBytes(whole), whole, 'no copy')
  const most = chunk.subarray(0, 10 * 1024)
  assert.equal(ownedBytes(most), most, 'a view of more than half its chunk keeps no more than twice its size')
  assert.equal(ownedBytes(Buffer.alloc(0)).length, 0)
})
