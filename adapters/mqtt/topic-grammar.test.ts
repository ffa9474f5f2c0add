import { test } from 'node:test'
import assert from 'node:assert/strict'
import { filterToBindingKey, parseSharedFilter, routingKeyToTopic, sharedQueueName, topicToRoutingKey } from './topic-grammar.ts'

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
  assert.equal(parseSharedFilter('$share/g1'), null)
  assert.equal(parseSharedFilter('$share//a'), null)
  assert.equal(parseSharedFilter('$share/g1/'), null)
  assert.equal(parseSharedFilter('$share/g+/a'), null)
})
