import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfirmTracker } from './confirm-tracker.ts'

test('confirms go out in sequence order, runs of one outcome as one frame with multiple=true', () => {
  const sent: Array<[string, number, boolean]> = []
  const t = new ConfirmTracker((outcome, tag, multiple) => sent.push([outcome, tag, multiple]))
  const seqs = Array.from({ length: 7 }, () => t.next())
  assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7])
  t.settle(2, 'ack')
  t.settle(3, 'ack')
  assert.deepEqual(sent, [], 'nothing before 1 is settled')
  t.settle(1, 'ack')
  assert.deepEqual(sent, [['ack', 3, true]])
  t.settle(5, 'nack')
  t.settle(4, 'nack')
  t.settle(6, 'ack')
  assert.deepEqual(sent.slice(1), [['nack', 5, true], ['ack', 6, false]])
  t.settle(6, 'nack') // settled twice: ignored
  t.settle(99, 'ack') // unknown: ignored
  t.settle(7, 'ack')
  assert.deepEqual(sent.slice(3), [['ack', 7, false]])
})

test('a long run compacts its memory and keeps counting', () => {
  const sent: number[] = []
  const t = new ConfirmTracker((_o, tag) => sent.push(tag))
  for (let i = 0; i < 5000; i++) t.settle(t.next(), 'ack')
  assert.equal(sent.length, 5000)
  assert.equal(sent[4999], 5000)
})
