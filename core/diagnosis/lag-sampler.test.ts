import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../manual-clock.ts'
import { LagSampler } from './lag-sampler.ts'

test('the trend over the samples kept: growth per second, a steady backlog is 0, a deleted queue is forgotten', () => {
  const clock = new ManualClock()
  const backlogs = new Map([
    ['a', 0],
    ['b', 50]
  ])
  const sampler = new LagSampler({ clock, intervalMs: 10_000, samplesMax: 3, backlogs: () => backlogs.entries() })
  sampler.start()
  assert.equal(sampler.trend('a'), null, 'one sample is no trend')
  for (let i = 1; i <= 5; i++) {
    backlogs.set('a', i * 100)
    clock.advance(10_000)
  }
  assert.deepEqual(sampler.trend('a'), { samples: 3, spanSeconds: 20, growthPerSecond: 10 }, 'only the last 3 samples: 300 -> 500 in 20 s')
  assert.equal(sampler.trend('b')?.growthPerSecond, 0)
  assert.deepEqual(
    sampler.trend('b', { atMs: clock.nowMs() + 5000, backlog: 0 }),
    { samples: 4, spanSeconds: 25, growthPerSecond: -2 },
    'a point for now joins the window'
  )
  backlogs.delete('b')
  clock.advance(10_000)
  assert.equal(sampler.trend('b'), null)
  sampler.stop()
  assert.equal(clock.pendingCount, 0)
})
