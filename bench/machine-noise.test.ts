import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseCpuTicks, probeWakeupLateness, stealPercent } from './machine-noise.ts'

test('parseCpuTicks reads steal and the total of the eight time fields of /proc/stat', () => {
  const ticks = parseCpuTicks('cpu  57411 0 5801 68823 722 0 889 1035 7 9\ncpu0 1 2 3 4 5 6 7 8 0 0\n')
  assert.deepEqual(ticks, { steal: 1035, total: 57411 + 5801 + 68823 + 722 + 889 + 1035 })
  assert.equal(parseCpuTicks('intr 1 2 3'), undefined)
  assert.equal(parseCpuTicks('cpu  1 2 x 4 5 6 7 8'), undefined)
})

test('stealPercent is the stolen share of the ticks between two readings', () => {
  assert.equal(stealPercent({ steal: 100, total: 1000 }, { steal: 150, total: 1500 }), 10)
  assert.equal(stealPercent({ steal: 100, total: 1000 }, { steal: 100, total: 1000 }), 0)
})

test('probeWakeupLateness times each 1 ms wait and reports how late it woke', () => {
  const started = performance.now()
  const probe = probeWakeupLateness(200)
  const tookMs = performance.now() - started
  assert.ok(tookMs >= 200 && tookMs < 2000, `took ${tookMs} ms`)
  // At most one wait per ms, at least one in all.
  assert.ok(probe.samples >= 1 && probe.samples <= 200, `${probe.samples} samples`)
  assert.ok(probe.p50Ms >= 0 && probe.p50Ms <= probe.p99Ms && probe.p99Ms <= probe.maxMs)
  assert.ok(probe.overOneMsPercent >= 0 && probe.overOneMsPercent <= 100)
})
