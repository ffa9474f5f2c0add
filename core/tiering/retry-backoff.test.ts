import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RetryBackoff } from './retry-backoff.ts'
import { ManualClock } from '../manual-clock.ts'

function setup(random: () => number): { backoff: RetryBackoff; clock: ManualClock } {
  const clock = new ManualClock(1000)
  const backoff = new RetryBackoff({ initialMs: 100, maxMs: 1000, clock, random })
  return { backoff, clock }
}

test('retry backoff: ceiling doubles per failure from initialMs and caps at maxMs', { timeout: 5000 }, () => {
  const { backoff } = setup(() => 0.999999)
  const delays = Array.from({ length: 7 }, () => backoff.recordFailure())
  assert.deepEqual(delays, [99, 199, 399, 799, 999, 999, 999])
  assert.equal(backoff.failures, 7)
})

test('retry backoff: full jitter scales the ceiling by random()', { timeout: 5000 }, () => {
  const values = [0, 0.5, 0.25]
  const { backoff } = setup(() => values.shift() ?? 0)
  assert.equal(backoff.recordFailure(), 0)
  assert.equal(backoff.recordFailure(), 100)
  assert.equal(backoff.recordFailure(), 100)
})

test('retry backoff: canAttempt waits for the delay on the injected clock; success resets', { timeout: 5000 }, () => {
  const { backoff, clock } = setup(() => 0.5)
  assert.equal(backoff.canAttempt(), true)
  assert.equal(backoff.nextAttemptAtMs, null)
  backoff.recordFailure() // 50 ms
  backoff.recordFailure() // 100 ms
  assert.equal(backoff.nextAttemptAtMs, 1100)
  assert.equal(backoff.canAttempt(), false)
  clock.advance(99)
  assert.equal(backoff.canAttempt(), false)
  clock.advance(1)
  assert.equal(backoff.canAttempt(), true)
  backoff.recordSuccess()
  assert.equal(backoff.failures, 0)
  assert.equal(backoff.nextAttemptAtMs, null)
  assert.equal(backoff.recordFailure(), 50, 'after a success the next delay starts from initialMs again')
})

test('retry backoff: rejects a bad configuration', { timeout: 5000 }, () => {
  const clock = new ManualClock()
  assert.throws(() => new RetryBackoff({ initialMs: 0, maxMs: 10, clock }), /initialMs/)
  assert.throws(() => new RetryBackoff({ initialMs: 10, maxMs: 5, clock }), /maxMs/)
})
