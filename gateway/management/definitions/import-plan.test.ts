import { test } from 'node:test'
import assert from 'node:assert/strict'
import { planImport } from './import-plan.ts'
import { rabbitHash } from '../../../core/auth/rabbit-password-hash.ts'

test("RabbitMQ's MQTT plugin queues and their bindings are listed, not imported", () => {
  const plan = planImport({
    queues: [
      { name: 'mqtt-subscription-dev1qos1', vhost: '/', durable: true, auto_delete: false, arguments: {} },
      { name: 'plain', vhost: '/' }
    ],
    bindings: [{ source: 'amq.topic', vhost: '/', destination: 'mqtt-subscription-dev1qos1', destination_type: 'queue', routing_key: 'a.#', arguments: {} }]
  })
  assert.deepEqual(
    plan.steps.map(s => s.kind),
    ['queue']
  )
  assert.deepEqual(
    plan.unsupported.map(u => [u.kind, u.name]),
    [
      ['queue', 'mqtt-subscription-dev1qos1'],
      ['binding', 'amq.topic -> queue mqtt-subscription-dev1qos1 (a.#)']
    ]
  )
})

test('a vhost import puts every object into that vhost and reads no users', () => {
  const plan = planImport(
    { users: [{ name: 'u' }], exchanges: [{ name: 'x', vhost: 'elsewhere', type: 'direct' }], queues: [{ name: 'q', vhost: 'elsewhere', durable: 'false' }] },
    { vhost: 'v1' }
  )
  assert.deepEqual(plan.steps, [
    { kind: 'exchange', vhost: 'v1', name: 'x', type: 'direct', durable: true, autoDelete: false, internal: false, arguments: {} },
    { kind: 'queue', vhost: 'v1', name: 'q', durable: false, autoDelete: false, arguments: {} }
  ])
})

test('users: RabbitMQ hashes kept with their algorithm, bad or unknown ones listed with their permissions', () => {
  const good = rabbitHash('pw', 'rabbit_password_hashing_sha512')
  const plan = planImport({
    users: [
      { name: 'a', password_hash: good, hashing_algorithm: 'rabbit_password_hashing_sha512', tags: 'management,policymaker' },
      { name: 'b', password_hash: 'not-base64!', hashing_algorithm: 'rabbit_password_hashing_sha256', tags: [] },
      { name: 'c', password_hash: 'x', hashing_algorithm: 'bcrypt', tags: [] },
      { name: 'd', password_hash: '', tags: ['administrator'], limits: { 'max-connections': 5, 'max-queues': 1 } }
    ],
    permissions: [{ user: 'b', vhost: '/', configure: '.*', write: '.*', read: '.*' }]
  })
  assert.deepEqual(
    plan.steps.map(s => (s.kind === 'user' ? [s.user.name, s.user.passwordHash, s.user.tags] : s.kind === 'limits' ? [s.target, s.object, s.value] : s.kind)),
    [
      ['a', `rabbit_password_hashing_sha512$${good}`, ['management', 'policymaker']],
      ['d', '', ['administrator']],
      ['user', 'd', { 'max-connections': 5 }]
    ]
  )
  assert.deepEqual(
    plan.unsupported.map(u => [u.kind, u.name]),
    [
      ['user', 'b'],
      ['user', 'c'],
      ['user limits', 'd: max-queues'],
      ['permission', 'b']
    ]
  )
})

test('unknown top-level sections are listed item by item; metadata fields are not', () => {
  const plan = planImport({ rabbit_version: '3.10.8', parameters: [{ component: 'shovel', name: 's1', vhost: '/' }], operator_policies: [] })
  assert.deepEqual(
    plan.unsupported.map(u => [u.kind, u.name]),
    [['parameters', 'shovel/s1']]
  )
})

test("vhost limits: RabbitMQ's vhost-limits parameter and a vhost's own limits object become limit steps; unknown limits are listed", () => {
  const plan = planImport({
    vhosts: [
      { name: 'v', limits: [] },
      { name: 'w', limits: { 'max-queues': 3 } }
    ],
    parameters: [{ vhost: 'v', component: 'vhost-limits', name: 'limits', value: { 'max-connections': 2, 'max-channels': 1, 'max-queues': 'x' } }]
  })
  assert.deepEqual(
    plan.steps.filter(s => s.kind === 'limits'),
    [
      { kind: 'limits', target: 'vhost', object: 'w', value: { 'max-queues': 3 } },
      { kind: 'limits', target: 'vhost', object: 'v', value: { 'max-connections': 2 } }
    ]
  )
  assert.deepEqual(
    plan.unsupported.map(u => [u.kind, u.name]),
    [
      ['vhost limits', 'v: max-channels'],
      ['vhost limits', 'v: max-queues']
    ]
  )
})
