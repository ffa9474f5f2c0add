import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planOffload } from './offload-plan.ts'
import type { StreamSegment } from '../streams/tiered-stream-store.ts'

const T0 = 1_700_000_000_000

function seg(streamId: number, firstOffset: number, lastTimestampMs: number, bytes: number): StreamSegment {
  return {
    streamId,
    vhost: '/',
    stream: `s${streamId}`,
    firstOffset,
    lastOffset: firstOffset + 9,
    records: 10,
    bytes,
    firstTimestampMs: lastTimestampMs - 100,
    lastTimestampMs,
    state: 'sealed',
    objectKey: null,
    index: null
  }
}

test('offload plan: segments at or past localAge go, younger ones stay', { timeout: 5000 }, () => {
  const sealed = [seg(1, 0, T0, 100), seg(1, 10, T0 + 500, 100), seg(2, 0, T0 + 1000, 100)]
  const plan = planOffload({ sealed, localBytes: 300, nowMs: T0 + 60_500, localAgeSeconds: 60, localBytesMax: 10_000 })
  assert.deepEqual(
    plan.map(s => [s.streamId, s.firstOffset]),
    [
      [1, 0],
      [1, 10]
    ]
  )
  assert.equal(planOffload({ sealed, localBytes: 300, nowMs: T0 + 59_999, localAgeSeconds: 60, localBytesMax: 10_000 }).length, 0)
  assert.equal(
    planOffload({ sealed, localBytes: 300, nowMs: T0 + 60_000, localAgeSeconds: 60, localBytesMax: 10_000 }).length,
    1,
    'exactly localAge old counts'
  )
})

test('offload plan: over localBytesMax, oldest first until within it', { timeout: 5000 }, () => {
  // Given out of order: the plan sorts by last timestamp.
  const sealed = [seg(2, 0, T0 + 300, 100), seg(1, 0, T0 + 100, 100), seg(1, 10, T0 + 200, 100)]
  // 350 local (50 in an open segment), max 160: two segments must go (350 -> 250 -> 150).
  const plan = planOffload({ sealed, localBytes: 350, nowMs: T0 + 400, localAgeSeconds: 3600, localBytesMax: 160 })
  assert.deepEqual(
    plan.map(s => [s.streamId, s.firstOffset]),
    [
      [1, 0],
      [1, 10]
    ]
  )
  assert.equal(planOffload({ sealed, localBytes: 350, nowMs: T0 + 400, localAgeSeconds: 3600, localBytesMax: 350 }).length, 0)
  assert.equal(planOffload({ sealed, localBytes: 350, nowMs: T0 + 400, localAgeSeconds: 3600, localBytesMax: 0 }).length, 3)
})

test('offload plan: age and size together, nothing to do when nothing is sealed', { timeout: 5000 }, () => {
  const sealed = [seg(1, 0, T0, 100), seg(1, 10, T0 + 10_000, 100), seg(1, 20, T0 + 20_000, 100)]
  const plan = planOffload({ sealed, localBytes: 300, nowMs: T0 + 5_000, localAgeSeconds: 1, localBytesMax: 150 })
  assert.deepEqual(
    plan.map(s => s.firstOffset),
    [0, 10],
    'the first by age, the second by size'
  )
  assert.deepEqual(planOffload({ sealed: [], localBytes: 10_000, nowMs: T0, localAgeSeconds: 1, localBytesMax: 0 }), [])
})
