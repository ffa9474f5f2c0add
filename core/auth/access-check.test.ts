// The permission checks, with RabbitMQ's semantics: regexes searched (not anchored), '' = '^$', the
// default exchange checked as amq.default, topic permissions opt-in per exchange, variables substituted.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { expandTopicVariables, resourceAllowed, resourceRefusal, topicAllowed, topicRefusal, vhostRefusal } from './access-check.ts'
import { permissionRegexProblem } from './permission-regex.ts'

const perms = (configure: string, write: string, read: string): { configure: string; write: string; read: string } => ({ configure, write, read })

describe('resource permissions', () => {
  test('no permissions in the vhost: nothing is allowed', () => {
    assert.equal(resourceAllowed(undefined, 'read', 'queue', 'q'), false)
  })

  test("'.*' allows everything, '' nothing (it means '^$')", () => {
    const p = perms('.*', '', '.*')
    assert.equal(resourceAllowed(p, 'configure', 'queue', 'anything'), true)
    assert.equal(resourceAllowed(p, 'write', 'exchange', 'x'), false)
    assert.equal(resourceAllowed(p, 'write', 'exchange', 'amq.topic'), false)
  })

  test('a regex is searched for, as RabbitMQ does: anchor it to restrict to a prefix', () => {
    const loose = perms('alice', '', '')
    assert.equal(resourceAllowed(loose, 'configure', 'queue', 'not-alice-q'), true)
    const anchored = perms('^alice-.*', '', '')
    assert.equal(resourceAllowed(anchored, 'configure', 'queue', 'alice-q'), true)
    assert.equal(resourceAllowed(anchored, 'configure', 'queue', 'not-alice-q'), false)
  })

  test("the default exchange is checked as 'amq.default'", () => {
    const p = perms('', '^amq\\.default$', '')
    assert.equal(resourceAllowed(p, 'write', 'exchange', ''), true)
    assert.equal(resourceAllowed(p, 'write', 'queue', ''), false)
    assert.equal(resourceRefusal('write', 'exchange', '', '/', 'bob'), "write access to exchange 'amq.default' in vhost '/' refused for user 'bob'")
  })

  test('an invalid regex matches nothing, and validation names it', () => {
    assert.equal(resourceAllowed(perms('(', '(', '('), 'read', 'queue', '('), false)
    assert.match(permissionRegexProblem('(') ?? '', /Unterminated group/)
    assert.equal(permissionRegexProblem('^a.*$'), null)
  })
})

describe('topic permissions', () => {
  const vars = { username: 'alice', vhost: '/', client_id: 'dev-1' }

  test('no topic permission for the exchange: every routing key is allowed', () => {
    assert.equal(topicAllowed(undefined, 'write', 'any.key', vars), true)
  })

  test('write and read are separate regexes over the routing key', () => {
    const t = { exchange: 'amq.topic', write: '^alice\\.', read: '^(alice|public)\\.' }
    assert.equal(topicAllowed(t, 'write', 'alice.x', vars), true)
    assert.equal(topicAllowed(t, 'write', 'public.x', vars), false)
    assert.equal(topicAllowed(t, 'read', 'public.x', vars), true)
    assert.equal(topicAllowed(t, 'read', '#', vars), false)
  })

  test('{username}, {vhost} and {client_id} are substituted, escaped', () => {
    const t = { exchange: 'amq.topic', write: '^{username}\\.{client_id}$', read: '^{vhost}$' }
    assert.equal(topicAllowed(t, 'write', 'alice.dev-1', vars), true)
    assert.equal(topicAllowed(t, 'write', 'alice.dev-2', vars), false)
    assert.equal(topicAllowed(t, 'read', '/', vars), true)
    assert.equal(expandTopicVariables('^{client_id}$', { client_id: 'a+b(c)' }), '^a\\+b\\(c\\)$')
  })

  test('a variable absent, or holding a word separator or wildcard, makes its part of the regex match nothing', () => {
    const t = { exchange: 'amq.topic', write: '^devices\\.{client_id}\\..*', read: '.*' }
    assert.equal(topicAllowed(t, 'write', 'devices.a.b.x', { client_id: 'a.b' }), false, "client 'a.b' does not reach into client 'a'")
    assert.equal(topicAllowed(t, 'write', 'devices.x.y', { client_id: '*' }), false)
    assert.equal(topicAllowed(t, 'write', 'devices.x.y', { client_id: '#' }), false)
    assert.equal(topicAllowed(t, 'write', 'devices.x.y', {}), false)
    assert.equal(topicAllowed(t, 'read', 'anything', {}), true, 'a regex without variables does not need them')
    const either = { exchange: 'amq.topic', write: '^(?:users\\.{username}|public)$', read: '' }
    assert.equal(topicAllowed(either, 'write', 'public', {}), true, 'the other alternatives still apply')
    assert.equal(topicAllowed(either, 'write', 'users.', {}), false)
  })

  test('refusals are worded as RabbitMQ words them', () => {
    assert.equal(topicRefusal('read', '#', 'amq.topic', '/', 'alice'), "read access to topic '#' in exchange 'amq.topic' in vhost '/' refused for user 'alice'")
    assert.equal(vhostRefusal('tenant', 'bob'), "access to vhost 'tenant' refused for user 'bob'")
  })
})
