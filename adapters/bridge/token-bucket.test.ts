import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../../core/manual-clock.ts'
import { TokenBucket } from './token-bucket.ts'

test('the bucket holds a tenth of a second of its rate and refills with the clock', () => {
  const clock = new ManualClock()
  const b = new TokenBucket(100, clock)
  let taken = 0
  while (b.take()) taken++
  assert.equal(taken, 10)
  assert.equal(b.available(), false)
  assert.equal(b.msUntilToken(), 10)
  clock.advance(10)
  assert.equal(b.take(), true)
  clock.advance(1000)
  taken = 0
  while (b.take()) taken++
  assert.equal(taken, 10, 'capped at its capacity after idling')
})

test('a low rate still lets one message through at a time', () => {
  const clock = new ManualClock()
  const b = new TokenBucket(2, clock)
  assert.equal(b.take(), true)
  assert.equal(b.take(), false)
  assert.equal(b.msUntilToken(), 500)
})
