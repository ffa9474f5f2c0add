// The ready queue's tail, as a queue whose last consumer left takes it out of memory (classic-queue.ts trimToIdleBound).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Message } from './message.ts'
import { QueueEntry } from './queue-entry.ts'
import type { Queue } from './queue.ts'
import { createReadyQueue } from './ready-queue.ts'

const queue = {} as Queue // an entry's queue is not read by the ready queue
const entry = (seq: number, priority = 0): QueueEntry =>
  new QueueEntry(queue, new Message('', 'k', {}, Buffer.from(`m${seq}`), 0, null), seq, priority, undefined)
const seqs = (entries: Iterable<QueueEntry>): number[] => Array.from(entries, e => e.seq)

test('takeTail takes the last entries in order, at most max, and stops at the first not eligible', () => {
  const ready = createReadyQueue(undefined)
  for (let seq = 1; seq <= 10; seq++) ready.push(entry(seq))
  assert.deepEqual(seqs(ready.takeTail(3, () => true)), [8, 9, 10])
  assert.deepEqual(seqs(ready.takeTail(10, e => e.seq !== 5)), [6, 7])
  assert.deepEqual(seqs(ready.entries()), [1, 2, 3, 4, 5])
  assert.equal(ready.length, 5)
  assert.equal(ready.bytes, 10) // five bodies of 2 bytes
  assert.deepEqual(seqs(ready.takeTail(10, () => true)), [1, 2, 3, 4, 5])
  assert.equal(ready.length, 0)
  assert.equal(ready.peek(), undefined)
})

test('takeTail after shifts: the head is never passed', () => {
  const ready = createReadyQueue(undefined)
  for (let seq = 1; seq <= 4; seq++) ready.push(entry(seq))
  ready.shift()
  assert.deepEqual(seqs(ready.takeTail(10, () => true)), [2, 3, 4])
  ready.push(entry(5))
  assert.deepEqual(seqs(ready.entries()), [5])
})

test('takeTail on priorities: the lowest level first (delivered last), in delivery order, stopping at a level it cannot empty', () => {
  const ready = createReadyQueue(2)
  ready.push(entry(1, 2))
  ready.push(entry(2, 0))
  ready.push(entry(3, 1))
  ready.push(entry(4, 0))
  ready.push(entry(5, 1))
  // Delivery order: 1 (level 2), 3, 5 (level 1), 2, 4 (level 0).
  assert.deepEqual(seqs(ready.takeTail(3, () => true)), [5, 2, 4])
  assert.deepEqual(seqs(ready.takeTail(5, e => e.seq !== 3)), [])
  assert.deepEqual(seqs(ready.entries()), [1, 3])
  assert.equal(ready.length, 2)
})
