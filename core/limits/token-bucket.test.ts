import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TokenBucket } from './token-bucket.ts'

test('a bucket starts full, refills at its rate and never holds more than its capacity', () => {
  const b = new TokenBucket(10, 5, 0)
  for (let i = 0; i < 5; i++) assert.equal(b.tryTake(1, 0), true)
  assert.equal(b.tryTake(1, 0), false)
  assert.equal(b.tryTake(1, 99), false, '0.99 tokens after 99 ms')
  assert.equal(b.tryTake(1, 100), true, 'one token after 100 ms at 10/s')
  assert.equal(b.full(10_000), true)
  for (let i = 0; i < 5; i++) assert.equal(b.tryTake(1, 10_000), true, 'capacity, not 100 s of tokens')
  assert.equal(b.tryTake(1, 10_000), false)
})

test('an overdraw is paid back in time: the wait is the debt over the rate', () => {
  const b = new TokenBucket(1000, 100, 0)
  b.take(600, 0) // a message five times the bucket passes once
  assert.equal(b.waitMs(0), 500)
  assert.equal(b.waitMs(250), 250)
  assert.equal(b.waitMs(500), 0)
  b.take(1, 500)
  assert.equal(b.waitMs(500), 1)
})

test('over a long run the rate is exact whatever the burst', () => {
  const b = new TokenBucket(200, 20, 0)
  let now = 0
  let sent = 0
  while (now < 10_000) {
    b.take(7, now) // batches of 7, as a socket read hands several publishes at once
    sent += 7
    now += Math.max(1, b.waitMs(now))
  }
  const rate = sent / (now / 1000)
  assert.ok(Math.abs(rate - 200) / 200 < 0.02, `measured ${rate}/s`)
})

test('a bucket refuses a rate or capacity that is not positive', () => {
  assert.throws(() => new TokenBucket(0, 1, 0), /rate 0\/s/)
  assert.throws(() => new TokenBucket(1, 0, 0), /capacity 0/)
})
