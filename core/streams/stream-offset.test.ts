import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BrokerError } from '../errors.ts'
import { parseStreamOffset } from './stream-offset.ts'
import { intervalMs } from './stream-interval.ts'
import { segmentsToDrop } from './stream-retention.ts'

const q = "queue 's' in vhost '/'"

test('x-stream-offset: first, last, next, offsets, AMQP timestamps (seconds) and intervals; default next', () => {
  const now = 1_700_000_000_000
  assert.deepEqual(parseStreamOffset(undefined, now, q), { kind: 'next' })
  for (const kind of ['first', 'last', 'next'] as const) assert.deepEqual(parseStreamOffset(kind, now, q), { kind })
  assert.deepEqual(parseStreamOffset(0, now, q), { kind: 'offset', offset: 0 })
  assert.deepEqual(parseStreamOffset(123456789012, now, q), { kind: 'offset', offset: 123456789012 })
  assert.deepEqual(parseStreamOffset({ '!': 'timestamp', value: 1_600_000_000 }, now, q), { kind: 'timestamp', timestampMs: 1_600_000_000_000 })
  assert.deepEqual(parseStreamOffset('30m', now, q), { kind: 'timestamp', timestampMs: now - 30 * 60_000 })
  for (const bad of ['', 'First', '10x', '0s', -1, 2.5, true, null, Buffer.from('first'), { '!': 'timestamp', value: -5 }, ['first']]) {
    assert.throws(
      () => parseStreamOffset(bad, now, q),
      (e: unknown) => e instanceof BrokerError && e.kind === 'precondition-failed' && e.message.includes(q),
      String(bad)
    )
  }
})

test('x-max-age units as RabbitMQ: Y M D h m s, a positive integer', () => {
  assert.equal(intervalMs('7D'), 7 * 24 * 3600_000)
  assert.equal(intervalMs('1Y'), 365 * 24 * 3600_000)
  assert.equal(intervalMs('2M'), 60 * 24 * 3600_000)
  assert.equal(intervalMs('12h'), 12 * 3600_000)
  assert.equal(intervalMs('30m'), 30 * 60_000)
  assert.equal(intervalMs('10s'), 10_000)
  for (const bad of ['0D', '7d', 'D', '7', '1.5h', ' 7D', '7D ']) assert.equal(intervalMs(bad), undefined, bad)
})

test('retention drops the oldest whole segments: by age, then down to the byte limit (open segment counted, never dropped)', () => {
  const segs = [
    { bytes: 10, lastTimestampMs: 100 },
    { bytes: 10, lastTimestampMs: 200 },
    { bytes: 10, lastTimestampMs: 300 }
  ]
  assert.equal(segmentsToDrop(segs, 5, { maxAgeMs: undefined, maxLengthBytes: undefined }, 1000), 0)
  assert.equal(segmentsToDrop(segs, 5, { maxAgeMs: 850, maxLengthBytes: undefined }, 1000), 1)
  assert.equal(segmentsToDrop(segs, 5, { maxAgeMs: undefined, maxLengthBytes: 25 }, 1000), 1)
  assert.equal(segmentsToDrop(segs, 5, { maxAgeMs: undefined, maxLengthBytes: 24 }, 1000), 2)
  assert.equal(segmentsToDrop(segs, 50, { maxAgeMs: undefined, maxLengthBytes: 10 }, 1000), 3)
  assert.equal(segmentsToDrop(segs, 0, { maxAgeMs: 750, maxLengthBytes: 1000 }, 1000), 2)
})
