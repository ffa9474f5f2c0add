import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  compileFilter,
  filterMatches,
  filterToBindingKey,
  parseSharedFilter,
  routingKeyToTopic,
  sharedQueueName,
  topicFilterProblem,
  topicNameProblem,
  topicToRoutingKey
} from './topic-grammar.ts'

test('topics and routing keys swap / and . both ways', () => {
  assert.equal(topicToRoutingKey('sensors/room1/temp'), 'sensors.room1.temp')
  assert.equal(topicToRoutingKey('a/b.c'), 'a.b/c')
  assert.equal(routingKeyToTopic('a.b/c'), 'a/b.c')
  assert.equal(routingKeyToTopic(topicToRoutingKey('x/y.z/')), 'x/y.z/')
})

test('filters become topic-exchange binding keys', () => {
  assert.equal(filterToBindingKey('a/+/c'), 'a.*.c')
  assert.equal(filterToBindingKey('a/#'), 'a.#')
  assert.equal(filterToBindingKey('#'), '#')
  assert.equal(filterToBindingKey('+'), '*')
  assert.equal(filterToBindingKey('v1.0/+'), 'v1/0.*')
})

test('$share/<group>/<filter> is parsed; malformed ones are not shared filters', () => {
  assert.deepEqual(parseSharedFilter('$share/g1/sensors/#'), { group: 'g1', filter: 'sensors/#' })
  assert.equal(sharedQueueName({ group: 'g1', filter: 'sensors/#' }), 'mqtt-share/g1/sensors/#')
  assert.equal(parseSharedFilter('sensors/#'), null)
  // Malformed shared filters are refused with the reason [MQTT-4.8.2-1] [MQTT-4.8.2-2].
  assert.equal(typeof parseSharedFilter('$share/g1'), 'string')
  assert.equal(typeof parseSharedFilter('$share//a'), 'string')
  assert.equal(typeof parseSharedFilter('$share/g1/'), 'string')
  assert.equal(typeof parseSharedFilter('$share/g+/a'), 'string')
})

test('topic names and filters are checked as MQTT defines them', () => {
  assert.equal(topicNameProblem('a/b'), null)
  assert.match(topicNameProblem('a/+') ?? '', /wildcard/) // [MQTT-3.3.2-2]
  assert.match(topicNameProblem('') ?? '', /empty/) // [MQTT-4.7.3-1]
  assert.equal(topicFilterProblem('a/+/#'), null)
  assert.match(topicFilterProblem('a/#/b') ?? '', /before the last level/) // [MQTT-4.7.1-1]
  assert.match(topicFilterProblem('a/b+') ?? '', /inside the level/) // [MQTT-4.7.1-2]
  assert.match(topicFilterProblem('a\u0000') ?? '', /U\+0000/)
})

test('MQTT matching: + one level, # this level and below, $ topics not matched by a leading wildcard [MQTT-4.7.2-1]', () => {
  const m = (f: string, t: string): boolean => filterMatches(compileFilter(f), t)
  assert.ok(m('a/+/c', 'a/b/c'))
  assert.ok(!m('a/+/c', 'a/b/d'))
  assert.ok(m('a/#', 'a'))
  assert.ok(m('a/#', 'a/b/c'))
  assert.ok(m('+/+', '/x'))
  assert.ok(!m('a/+', 'a'))
  assert.ok(m('a/+', 'a/'))
  assert.ok(!m('#', '$SYS/broker/uptime'))
  assert.ok(!m('+/broker/uptime', '$SYS/broker/uptime'))
  assert.ok(m('$SYS/#', '$SYS/broker/uptime'))
})

test('topic <-> routing key conversions stay exact past the conversion cache and for long names', () => {
  // More distinct names than the cache keeps, each converted twice (the second from the cache or,
  // after it started over, converted again), both ways.
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 3000; i++) {
      const topic = `site/${i}/temp.c`
      assert.equal(topicToRoutingKey(topic), `site.${i}.temp/c`)
      assert.equal(routingKeyToTopic(`site.${i}.temp/c`), topic)
    }
  }
  const long = `${'a/'.repeat(300)}b.c`
  const key = `${'a.'.repeat(300)}b/c`
  assert.equal(topicToRoutingKey(long), key)
  assert.equal(routingKeyToTopic(key), long)
  assert.equal(topicToRoutingKey('plain'), 'plain')
})
