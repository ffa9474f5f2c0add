import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Backoff } from './backoff.ts'

test('delays double up to the maximum, each between half and all of its step', () => {
  const low = new Backoff(100, 1000, () => 0)
  assert.deepEqual(
    Array.from({ length: 6 }, () => low.nextDelayMs()),
    [50, 100, 200, 400, 500, 500]
  )
  const high = new Backoff(100, 1000, () => 0.999999)
  assert.deepEqual(
    Array.from({ length: 6 }, () => high.nextDelayMs()),
    [100, 200, 400, 800, 1000, 1000]
  )
  high.reset()
  assert.equal(high.nextDelayMs(), 100)
  assert.equal(high.failures, 1)
})

test('jitter spreads edges cut off by the same outage', () => {
  let seed = 7
  const random = (): number => {
    seed = (seed * 16807) % 2147483647
    return seed / 2147483647
  }
  const firsts = new Set(Array.from({ length: 50 }, () => new Backoff(1000, 30000, random).nextDelayMs()))
  assert.ok(firsts.size > 30, `only ${firsts.size} distinct first delays`)
  for (const d of firsts) assert.ok(d >= 500 && d <= 1000)
})

test('a long series stays at the maximum', () => {
  const b = new Backoff(10, 60000, () => 1)
  for (let i = 0; i < 2000; i++) assert.ok(b.nextDelayMs() <= 60000)
  assert.throws(() => new Backoff(0, 10), /0 < initialMs <= maxMs/)
})
