import { test } from 'node:test'
import assert from 'node:assert/strict'
import { QueueLabelSlots } from './queue-label-slots.ts'

test('the first queues keep their own label while they exist; the rest share _other until a slot frees', () => {
  const slots = new QueueLabelSlots(2)
  assert.deepEqual(
    [...slots.assign(['a', 'b', 'c'])],
    [
      ['a', true],
      ['b', true],
      ['c', false]
    ]
  )
  assert.deepEqual(
    [...slots.assign(['c', 'b', 'a', 'd'])],
    [
      ['c', false],
      ['b', true],
      ['a', true],
      ['d', false]
    ],
    'order of listing does not move labels'
  )
  assert.deepEqual(
    [...slots.assign(['b', 'c', 'd'])],
    [
      ['b', true],
      ['c', true],
      ['d', false]
    ],
    "a deleted queue's slot goes to the next queue listed"
  )
  assert.deepEqual([...new QueueLabelSlots(0).assign(['a'])], [['a', false]])
})
