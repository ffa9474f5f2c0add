import { test } from 'node:test'
import assert from 'node:assert/strict'
import { topicExchange, TOPIC_ROUTE_CACHE_KEYS_MAX } from './topic.ts'
import type { Binding, Destination } from '../binding.ts'

const dest = (name: string): Destination => ({ kind: 'queue', name }) as unknown as Destination
const binding = (key: string, d: Destination): Binding => ({ routingKey: key, destination: d }) as unknown as Binding

function routed(router: ReturnType<typeof topicExchange.createRouter>, key: string): string[] {
  const out = new Set<Destination>()
  router.route({ routingKey: key, headers: undefined }, out)
  return [...out].map(d => d.name).sort()
}

test('the route cache never outlives a bind or an unbind', () => {
  const router = topicExchange.createRouter()
  const a = binding('sensors.#', dest('a'))
  const b = binding('sensors.*.temp', dest('b'))
  router.add(a)
  assert.deepEqual(routed(router, 'sensors.r1.temp'), ['a'])
  assert.deepEqual(routed(router, 'sensors.r1.temp'), ['a']) // from the cache
  router.add(b)
  assert.deepEqual(routed(router, 'sensors.r1.temp'), ['a', 'b'])
  router.remove(a)
  assert.deepEqual(routed(router, 'sensors.r1.temp'), ['b'])
  router.remove(b)
  assert.deepEqual(routed(router, 'sensors.r1.temp'), [])
})

test('the route cache is bounded and stays right past its bound', () => {
  const router = topicExchange.createRouter()
  router.add(binding('k.*', dest('q')))
  for (let i = 0; i < TOPIC_ROUTE_CACHE_KEYS_MAX + 10; i++) assert.deepEqual(routed(router, `k.${i}`), ['q'])
  assert.deepEqual(routed(router, 'k.0'), ['q'])
  assert.deepEqual(routed(router, 'other.0'), [])
})
