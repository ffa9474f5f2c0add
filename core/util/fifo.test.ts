import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Fifo } from './fifo.ts'

test('fifo keeps order across compactions', () => {
  const q = new Fifo<number>()
  const out: number[] = []
  for (let i = 0; i < 10_000; i++) {
    q.push(i)
    if (i % 3 === 0) out.push(q.shift() as number)
  }
  while (q.length > 0) out.push(q.shift() as number)
  assert.deepEqual(
    out,
    Array.from({ length: 10_000 }, (_, i) => i)
  )
  assert.equal(q.shift(), undefined)
})
