import { test } from 'node:test'
import assert from 'node:assert/strict'
import { StringInterner } from './string-interner.ts'

test('equal strings come back as the first copy; past entriesMax it starts over', () => {
  const names = new StringInterner(2)
  const first = ['plant', 'north'].join('.')
  assert.equal(names.intern(first), first)
  assert.equal(names.intern(['plant', 'north'].join('.')), first)
  names.intern('a')
  const third = names.intern('b') // the table was full: it started over
  assert.equal(third, 'b')
  assert.equal(names.intern('a'), 'a')
  assert.throws(() => new StringInterner(0), /entriesMax must be >= 1, got 0/)
})
