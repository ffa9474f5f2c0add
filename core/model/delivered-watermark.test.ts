import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DeliveredWatermark } from './delivered-watermark.ts'
import type { Queue, QueueHost } from './queue.ts'

/** A host whose reservations commit when the test says; the queue counts the dispatches they cause. */
function rig(restoredSeq = 0): { w: DeliveredWatermark; asked: number[]; commit(): Promise<void>; dispatches(): number } {
  const asked: number[] = []
  const pending: Array<() => void> = []
  let dispatches = 0
  const queue = { dispatch: () => dispatches++ } as unknown as Queue
  const host = {
    commitDelivered: (_q: Queue, seq: number) => {
      asked.push(seq)
      return new Promise<void>(resolve => pending.push(resolve))
    }
  } as unknown as QueueHost
  return {
    w: new DeliveredWatermark(queue, host, restoredSeq),
    asked,
    commit: async () => {
      for (const resolve of pending.splice(0)) resolve()
      await new Promise(resolve => setImmediate(resolve))
    },
    dispatches: () => dispatches
  }
}

test('an entry waits for the first reservation; then a step goes at once and the next is asked for half way', async () => {
  const { w, asked, commit, dispatches } = rig()
  assert.equal(w.covers(1), false)
  assert.deepEqual(asked, [257], 'one step of 256 ahead of the waiting entry')
  assert.equal(w.covers(1), false, 'one reservation at a time')
  assert.deepEqual(asked, [257])
  await commit()
  assert.equal(dispatches(), 1, 'the queue dispatches again once it is committed')
  for (let seq = 1; seq <= 129; seq++) assert.equal(w.covers(seq), true)
  assert.deepEqual(asked, [257], 'nothing asked while half a step or more is left')
  assert.equal(w.covers(130), true)
  assert.deepEqual(asked, [257, 130 + 256], 'the next step, asked before it is needed')
  await commit()
  assert.equal(dispatches(), 1, 'nobody waited: no dispatch')
})

test('a queue that outruns the commit gets a step twice as large next time', async () => {
  const { w, asked, commit } = rig()
  w.covers(1)
  await commit()
  let seq = 1
  while (w.covers(seq)) seq++ // past the step before the one asked for half way committed
  assert.equal(seq, 258)
  assert.deepEqual(asked, [257, 130 + 256])
  await commit()
  assert.equal(w.covers(seq), true)
  assert.deepEqual(asked, [257, 130 + 256, 258 + 512], 'the step after a wait is 512')
})

test('restored: entries up to the stored watermark go at once; the real watermark is what was handed out', async () => {
  const { w, asked, commit } = rig(40)
  assert.equal(w.covers(10), true)
  w.handedOut(10)
  assert.deepEqual(asked, [10 + 256], 'within half a step of the stored watermark: the next step is asked for')
  assert.equal(w.reservedAhead, false, 'not yet committed')
  await commit()
  assert.equal(w.reservedAhead, true)
  assert.equal(w.deliveredSeq, 40, 'the restored watermark stays: those entries may have been delivered before')
  w.handedOut(41)
  assert.equal(w.deliveredSeq, 41)
})

test('with nothing to store the reservation (a memory-only store) everything goes at once', () => {
  const queue = { dispatch: () => {} } as unknown as Queue
  const host = { commitDelivered: () => null } as unknown as QueueHost
  const w = new DeliveredWatermark(queue, host, 0)
  assert.equal(w.covers(1), true)
  assert.equal(w.covers(1_000_000), true)
  assert.equal(w.reservedAhead, false)
})
