import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TopicTrie, topicMatches, topicWords } from './topic-matcher.ts'

const cases: Array<[string, string, boolean]> = [
  ['a.b.c', 'a.b.c', true],
  ['a.*.c', 'a.b.c', true],
  ['a.*.c', 'a.c', false],
  ['a.#', 'a', true],
  ['a.#', 'a.b.c', true],
  ['#.c', 'c', true],
  ['#', '', true],
  ['*', '', false],
  ['', '', true],
  ['', 'a', false],
  ['a.#.c', 'a.c', true],
  ['a.#.c', 'a.b.b.c', true],
  ['a.#.c', 'a.b.b.d', false],
  ['#.#', 'x', true],
  ['*.#', '', false],
  ['a..b', 'a..b', true],
  ['a.*.b', 'a..b', true],
  ['*.*', 'a.b.c', false]
]

test('AMQP topic semantics: * is one word, # is zero or more, an empty key has no words', () => {
  assert.deepEqual(topicWords(''), [])
  for (const [pattern, key, expected] of cases) {
    assert.equal(topicMatches(pattern, key), expected, `${pattern} vs ${key}`)
    const trie = new TopicTrie<string>()
    trie.add(pattern, 'v')
    assert.equal(trie.match(key).has('v'), expected, `trie: ${pattern} vs ${key}`)
  }
})

// Seeded random patterns and keys over a tiny alphabet, the trie checked against the reference.
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

test('the trie matches exactly what the reference matcher does, through adds and removes (seeded)', () => {
  const rand = rng(42)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const word = (wild: boolean): string => pick(wild ? ['a', 'b', '', '*', '#', '#'] : ['a', 'b', ''])
  const phrase = (wild: boolean): string => (rand() < 0.1 ? '' : Array.from({ length: 1 + Math.floor(rand() * 4) }, () => word(wild)).join('.'))
  const trie = new TopicTrie<number>()
  const live = new Map<number, string>()
  for (let step = 0; step < 3000; step++) {
    if (rand() < 0.6 || live.size === 0) {
      const id = step
      const pattern = phrase(true)
      live.set(id, pattern)
      trie.add(pattern, id)
    } else {
      const [id, pattern] = pick([...live])
      live.delete(id)
      assert.ok(trie.remove(pattern, id))
    }
    const key = phrase(false)
    const expected = [...live]
      .filter(([, p]) => topicMatches(p, key))
      .map(([id]) => id)
      .sort((a, b) => a - b)
    assert.deepEqual(
      [...trie.match(key)].sort((a, b) => a - b),
      expected,
      `key '${key}' at step ${step}`
    )
  }
  assert.equal(trie.size, live.size)
  assert.equal(trie.remove('no.such', -1), false)
})
