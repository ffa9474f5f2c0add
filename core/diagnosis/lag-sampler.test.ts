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
  const sampler = new LagSampler({ clock, intervalMs: 10_000, samplesMax: 3, backlogs: visit => backlogs.forEach((backlog, key) => visit(key, backlog)) })
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

test('an idle queue keeps no backlogs; a backlog that comes and drains within the window is seen, then forgotten', () => {
  const clock = new ManualClock()
  const backlogs = new Map([['q', 0]])
  const sampler = new LagSampler({ clock, intervalMs: 1000, samplesMax: 4, backlogs: visit => backlogs.forEach((backlog, key) => visit(key, backlog)) })
  sampler.start()
  clock.advance(1000)
  assert.deepEqual(sampler.trend('q'), { samples: 2, spanSeconds: 1, growthPerSecond: 0 })
  backlogs.set('q', 40)
  clock.advance(1000)
  assert.deepEqual(sampler.trend('q'), { samples: 3, spanSeconds: 2, growthPerSecond: 20 }, '0, 0, 40 over 2 s')
  backlogs.set('q', 0)
  clock.advance(1000)
  clock.advance(1000)
  assert.deepEqual(sampler.trend('q'), { samples: 4, spanSeconds: 3, growthPerSecond: 0 }, 'the window 0, 40, 0, 0 starts and ends at 0')
  assert.deepEqual(sampler.trend('q', { atMs: clock.nowMs() + 1000, backlog: 10 }), { samples: 5, spanSeconds: 4, growthPerSecond: 2.5 })
  clock.advance(1000)
  assert.equal(sampler.trend('q')?.growthPerSecond, -40 / 3, 'the window 40, 0, 0, 0')
  clock.advance(1000)
  assert.deepEqual(sampler.trend('q'), { samples: 4, spanSeconds: 3, growthPerSecond: 0 }, 'the 40 has left the window')
  sampler.stop()
})
