// QueueTimers with delays past what a Node timer holds (2^31-1 ms, 24.8 days): a message TTL or an
// x-expires that long gets a timer of at most that, and the deadline is still met exactly.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../manual-clock.ts'
import type { TimerHandle } from '../clock.ts'
import type { Queue } from './queue.ts'
import { MAX_TIMER_DELAY_MS, QueueTimers } from './queue-timers.ts'

/** A manual clock that remembers every delay asked of it. */
class RecordingClock extends ManualClock {
  readonly delaysMs: number[] = []
  override setTimer(fn: () => void, delayMs: number): TimerHandle {
    this.delaysMs.push(delayMs)
    return super.setTimer(fn, delayMs)
  }
}

const THIRTY_FIVE_DAYS_MS = 35 * 24 * 3600 * 1000

test('a head TTL past 24.8 days: the timer asks for at most 2^31-1 ms, and the expiry fires when it comes due', () => {
  const clock = new RecordingClock()
  const fired: number[] = []
  const q = { deleted: false, consumerCount: 0, policy: {} } as unknown as Queue
  const deadline = clock.nowMs() + THIRTY_FIVE_DAYS_MS
  // As ClassicQueue.expire does: at each firing, a head not yet due asks again for its deadline.
  const timers = new QueueTimers(
    clock,
    () => {
      if (clock.nowMs() >= deadline) fired.push(clock.nowMs())
      else timers.expireAt(q, deadline)
    },
    () => {}
  )
  timers.expireAt(q, deadline)
  assert.deepEqual(clock.delaysMs, [MAX_TIMER_DELAY_MS])
  clock.advance(THIRTY_FIVE_DAYS_MS - 1)
  assert.deepEqual(fired, [])
  clock.advance(1)
  assert.deepEqual(fired, [deadline])
  assert.ok(
    clock.delaysMs.every(d => d <= MAX_TIMER_DELAY_MS),
    `delays ${clock.delaysMs.join(', ')}`
  )
  assert.equal(clock.delaysMs.length, 2, 'one early firing at 24.8 days, then the rest')
})

test('an x-expires past 24.8 days: the unused queue goes when it comes due, with timers of at most 2^31-1 ms', () => {
  const clock = new RecordingClock()
  const unused: number[] = []
  const start = clock.nowMs()
  const q = { deleted: false, consumerCount: 0, policy: { expiresMs: THIRTY_FIVE_DAYS_MS } } as unknown as Queue
  const timers = new QueueTimers(
    clock,
    () => {},
    () => unused.push(clock.nowMs() - start)
  )
  timers.used(q)
  clock.advance(THIRTY_FIVE_DAYS_MS - 1)
  assert.deepEqual(unused, [])
  clock.advance(1)
  assert.deepEqual(unused, [THIRTY_FIVE_DAYS_MS])
  assert.ok(
    clock.delaysMs.every(d => d <= MAX_TIMER_DELAY_MS),
    `delays ${clock.delaysMs.join(', ')}`
  )
})
