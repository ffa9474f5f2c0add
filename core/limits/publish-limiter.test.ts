import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../manual-clock.ts'
import { PublishLimiter, type PublishRates, type ThrottleEvent } from './publish-limiter.ts'

const none: PublishRates = { publishMessagesPerSecond: 0, publishBytesPerSecond: 0 }

function socketLike(): { paused: boolean; pauses: number; pause(): void; resume(): void } {
  return {
    paused: false,
    pauses: 0,
    pause() {
      this.paused = true
      this.pauses++
    },
    resume() {
      this.paused = false
    }
  }
}

test('no limit configured: the limiter is off', () => {
  const limiter = new PublishLimiter({ perConnection: none, perUser: none, burstMs: 100, clock: new ManualClock() })
  assert.equal(limiter.enabled, false)
})

test('a connection over its message rate is paused until the debt is paid, then resumed', () => {
  const clock = new ManualClock(0)
  const events: ThrottleEvent[] = []
  const limiter = new PublishLimiter({
    perConnection: { publishMessagesPerSecond: 100, publishBytesPerSecond: 0 },
    perUser: none,
    burstMs: 100,
    clock,
    onThrottle: e => events.push(e)
  })
  const socket = socketLike()
  const t = limiter.open(socket, 'mqtt')
  for (let i = 0; i < 10; i++) t.charge(10) // the burst: 100 ms of 100/s
  assert.equal(socket.paused, false)
  t.charge(10)
  assert.equal(socket.paused, true, 'the 11th message overdraws the bucket')
  assert.deepEqual(events, [{ protocol: 'mqtt', username: null, limit: 'limits.perConnection.publishMessagesPerSecond', waitMs: 10 }])
  clock.advance(9)
  assert.equal(socket.paused, true)
  clock.advance(1)
  assert.equal(socket.paused, false)
  t.close()
  assert.equal(clock.pendingCount, 0)
})

test('the byte rate counts payload bytes; a message larger than the bucket passes, then waits', () => {
  const clock = new ManualClock(0)
  const limiter = new PublishLimiter({ perConnection: { publishMessagesPerSecond: 0, publishBytesPerSecond: 1000 }, perUser: none, burstMs: 100, clock })
  const socket = socketLike()
  const t = limiter.open(socket, 'amqp')
  t.charge(600) // bucket of 100 bytes: 500 bytes of debt
  assert.equal(socket.paused, true)
  clock.advance(499)
  assert.equal(socket.paused, true)
  clock.advance(1)
  assert.equal(socket.paused, false)
})

test("a user's connections share the user's buckets, on every protocol; the last to close frees them", () => {
  const clock = new ManualClock(0)
  const limiter = new PublishLimiter({ perConnection: none, perUser: { publishMessagesPerSecond: 10, publishBytesPerSecond: 0 }, burstMs: 100, clock })
  const a = socketLike()
  const b = socketLike()
  const ta = limiter.open(a, 'mqtt')
  const tb = limiter.open(b, 'amqp')
  ta.setUser('alice')
  tb.setUser('alice')
  assert.equal(limiter.userCount, 1)
  ta.charge(1) // the bucket held one message (100 ms of 10/s)
  assert.equal(a.paused, false)
  tb.charge(1)
  assert.equal(b.paused, true, 'the second connection overdraws the shared bucket')
  ta.charge(1)
  assert.equal(a.paused, true)
  clock.advance(100)
  assert.equal(b.paused, true, "b waits for the whole shared debt, a's message included")
  assert.equal(a.paused, true)
  clock.advance(100)
  assert.equal(a.paused, false)
  assert.equal(b.paused, false)
  ta.close()
  assert.equal(limiter.userCount, 1)
  tb.close()
  assert.equal(limiter.userCount, 0)
})

test('anonymous connections have only their own limits', () => {
  const clock = new ManualClock(0)
  const limiter = new PublishLimiter({ perConnection: none, perUser: { publishMessagesPerSecond: 1, publishBytesPerSecond: 0 }, burstMs: 100, clock })
  const s = socketLike()
  const t = limiter.open(s, 'mqtt')
  t.setUser(null)
  for (let i = 0; i < 100; i++) t.charge(1)
  assert.equal(s.paused, false)
  assert.equal(limiter.userCount, 0)
})
