// The memory watermark's decisions, with the heap readings given by hand: it trips on what a full GC
// left (not on garbage between GCs), clears only below its resume fraction, and is off at 0.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../manual-clock.ts'
import { HeapWatermark } from './heap-watermark.ts'

const MIB = 1024 * 1024

function watermark(heapBytesMax: number) {
  const clock = new ManualClock(0)
  let usedBytes = 10 * MIB
  const changes: Array<string | null> = []
  const w = new HeapWatermark({ heapBytesMax, checkIntervalMs: 1000, clock, heapUsedBytes: () => usedBytes, onChange: r => changes.push(r) })
  return { w, clock, changes, setUsed: (bytes: number) => (usedBytes = bytes) }
}

test('a heap in use over the bound between full GCs (garbage) refuses nobody; a full GC that leaves it over does', () => {
  const { w, clock, changes, setUsed } = watermark(100 * MIB)
  w.start()
  setUsed(150 * MIB)
  clock.advance(5000)
  assert.deepEqual(changes, [], 'periodic checks only lower the live estimate')
  setUsed(101 * MIB)
  w.fullGcDone()
  assert.equal(changes.length, 1)
  assert.match(changes[0] ?? '', /^live heap 101 MiB over the memory watermark 100 MiB \(runtime\.heapWatermarkRatio\)$/)
  assert.equal(w.status().blockedCount, 1)
  w.stop()
})

test('it clears once the heap in use is below 90% of the bound, without waiting for a full GC', () => {
  const { w, clock, changes, setUsed } = watermark(100 * MIB)
  w.start()
  setUsed(120 * MIB)
  w.fullGcDone()
  setUsed(95 * MIB)
  clock.advance(1000)
  assert.equal(changes.length, 1, 'still over 90 MiB: stays blocked (no flapping at the bound)')
  assert.notEqual(w.status().blocked, null)
  setUsed(85 * MIB)
  clock.advance(1000)
  assert.deepEqual(changes.slice(1), [null])
  assert.equal(w.status().clearedCount, 1)
  assert.equal(w.status().liveBytes, 85 * MIB)
  w.stop()
})

test('0 is off: no timer, and a full GC over any size refuses nobody', () => {
  const { w, clock, changes, setUsed } = watermark(0)
  w.start()
  setUsed(4096 * MIB)
  w.fullGcDone()
  clock.advance(10_000)
  assert.deepEqual(changes, [])
  assert.equal(w.status().blocked, null)
})

test('a negative bound or interval is refused at construction, naming the setting', () => {
  const clock = new ManualClock(0)
  const base = { heapBytesMax: 1, checkIntervalMs: 1000, clock, heapUsedBytes: () => 0, onChange: () => {} }
  assert.throws(() => new HeapWatermark({ ...base, heapBytesMax: -1 }), /memory watermark: the heap bound must be >= 0 bytes, got -1/)
  assert.throws(() => new HeapWatermark({ ...base, checkIntervalMs: 0 }), /runtime\.heapCheckIntervalMs must be > 0, got 0/)
})

test('while it holds, each check runs a full GC: the garbage of drained queues clears it without waiting for V8', () => {
  const clock = new ManualClock(0)
  let usedBytes = 10 * MIB
  let garbageBytes = 0
  let fullGcs = 0
  const changes: Array<string | null> = []
  const w = new HeapWatermark({
    heapBytesMax: 100 * MIB,
    checkIntervalMs: 1000,
    clock,
    heapUsedBytes: () => usedBytes + garbageBytes,
    fullGc: () => {
      fullGcs++
      garbageBytes = 0
    },
    onChange: r => changes.push(r)
  })
  w.start()
  clock.advance(3000)
  assert.equal(fullGcs, 0, 'no GC of its own while nothing holds')
  usedBytes = 120 * MIB
  w.fullGcDone()
  assert.equal(changes.length, 1)
  // The queues drain: what they held is garbage now, still counted in the heap in use.
  garbageBytes = usedBytes - 20 * MIB
  usedBytes = 20 * MIB
  clock.advance(1000)
  assert.equal(fullGcs, 1)
  assert.deepEqual(changes.slice(1), [null])
  clock.advance(3000)
  assert.equal(fullGcs, 1, 'cleared: no more GCs of its own')
  w.stop()
})

/** A clock whose monotonic reading also moves by what the GCs took (advance() cannot be nested in a timer). */
class GcTimedClock extends ManualClock {
  gcMs = 0
  override monotonicMs(): number {
    return super.monotonicMs() + this.gcMs
  }
}

test('its own full GCs take at most a tenth of the time: after one of 300 ms, the next waits 3 s', () => {
  const clock = new GcTimedClock(0)
  let usedBytes = 10 * MIB
  let fullGcs = 0
  const w = new HeapWatermark({
    heapBytesMax: 100 * MIB,
    checkIntervalMs: 1000,
    clock,
    heapUsedBytes: () => usedBytes,
    fullGc: () => {
      fullGcs++
      clock.gcMs += 300 // the GC's own duration
    },
    onChange: () => {}
  })
  w.start()
  usedBytes = 120 * MIB
  w.fullGcDone()
  clock.advance(1000)
  assert.equal(fullGcs, 1)
  clock.advance(2000)
  assert.equal(fullGcs, 1, 'within 3 s of the last one: none')
  clock.advance(1000)
  assert.equal(fullGcs, 2)
  assert.notEqual(w.status().blocked, null, 'still over: still blocked')
  w.stop()
})
