import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfirmTracker } from './confirm-tracker.ts'

type Sent = Array<[string, number, boolean]>

/** A tracker whose deferred sends run when the test says so. */
function manualTracker(): { t: ConfirmTracker; sent: Sent; runDeferred: () => void } {
  const sent: Sent = []
  const deferred: Array<() => void> = []
  const t = new ConfirmTracker(
    (outcome, tag, multiple) => sent.push([outcome, tag, multiple]),
    fn => deferred.push(fn)
  )
  return {
    t,
    sent,
    runDeferred: () => {
      for (const fn of deferred.splice(0)) fn()
    }
  }
}

test('confirms go out in sequence order, runs of one outcome as one frame with multiple=true', () => {
  const { t, sent, runDeferred } = manualTracker()
  const seqs = Array.from({ length: 7 }, () => t.next())
  assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7])
  t.settle(2, 'ack')
  t.settle(3, 'ack')
  runDeferred()
  assert.deepEqual(sent, [], 'nothing before 1 is settled')
  t.settle(1, 'ack')
  assert.deepEqual(sent, [], 'sent once the settlements of this turn are in, not at once')
  runDeferred()
  assert.deepEqual(sent, [['ack', 3, true]])
  t.settle(5, 'nack')
  t.settle(4, 'nack')
  t.settle(6, 'ack')
  runDeferred()
  assert.deepEqual(
    sent.slice(1),
    [
      ['nack', 5, true],
      ['ack', 6, false]
    ],
    'the nacks go before the ack that follows them'
  )
  t.settle(6, 'nack') // settled twice: ignored
  t.settle(99, 'ack') // unknown: ignored
  t.settle(7, 'ack')
  runDeferred()
  assert.deepEqual(sent.slice(3), [['ack', 7, false]])
})

test('a nack in the middle of a commit splits the acks around it; an unsettled tag stops the frame before it', () => {
  const { t, sent, runDeferred } = manualTracker()
  for (let i = 0; i < 10; i++) t.next()
  for (const seq of [1, 2, 3, 5, 6, 8, 9, 10]) t.settle(seq, 'ack')
  t.settle(4, 'nack')
  runDeferred()
  assert.deepEqual(
    sent,
    [
      ['ack', 3, true],
      ['nack', 4, false],
      ['ack', 6, true]
    ],
    '7 is not settled: 8..10 wait'
  )
  t.settle(7, 'ack')
  runDeferred()
  assert.deepEqual(sent.slice(3), [['ack', 10, true]])
})

test('settlements in the promise reactions of one commit (Promise.all ones included) are one frame', async () => {
  const sent: Sent = []
  const t = new ConfirmTracker((outcome, tag, multiple) => sent.push([outcome, tag, multiple]))
  const resolvers: Array<() => void> = []
  const commit = (): Promise<void> => new Promise(resolve => resolvers.push(resolve))
  for (let i = 0; i < 50; i++) {
    const seq = t.next()
    const stored = i % 5 === 0 ? Promise.all([commit(), commit()]).then(() => {}) : commit()
    void stored.then(() => t.settle(seq, 'ack'))
  }
  for (const resolve of resolvers) resolve() // what SqliteStore.flush does after the transaction
  await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(sent, [['ack', 50, true]])
})

test('a long run compacts its memory and keeps counting', () => {
  const { t, sent, runDeferred } = manualTracker()
  for (let i = 0; i < 5000; i++) {
    t.settle(t.next(), 'ack')
    runDeferred()
  }
  assert.equal(sent.length, 5000)
  assert.deepEqual(sent[4999], ['ack', 5000, false])
})
