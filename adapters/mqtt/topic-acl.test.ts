// The mapping of Mosquitto-style lists onto topic permissions, checked the way the engine checks a
// client: the topic or filter as the grammar allows it, then its routing or binding key against the
// regex the list became (core/auth's topic check), with %u and %c substituted.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { aclTopicPermission, isValidAclPattern, mqttTopicVariables } from './topic-acl.ts'
import { publishAllowed, subscribeAllowed } from './access.ts'
import { topicFilterProblem, topicNameProblem } from './topic-grammar.ts'
import { fullPermissions, type Principal } from '../../core/auth/access-types.ts'
import { VhostAccess } from '../../core/auth/vhost-access.ts'
import type { WharfConfig } from '../../edge-config/config-types.ts'

type Auth = Pick<WharfConfig['auth'], 'users' | 'defaultAcl'>
const hash = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='

function auth(partial: Partial<Auth>): Auth {
  return { users: [], defaultAcl: {}, ...partial }
}

/** The lists as the engine sees them: one principal per check, full resource permissions, the topic permission from the lists. */
function createTopicAcl(a: Auth): {
  canPublish: (u: string | null, c: string, t: string) => boolean
  canSubscribe: (u: string | null, c: string, f: string) => boolean
} {
  const access = (username: string | null, clientId: string): VhostAccess => {
    const own = username === null ? undefined : a.users.find(u => u.username === username)
    const topic = aclTopicPermission(own, a.defaultAcl, 'amq.topic')
    const principal: Principal = { username, tags: [], permissions: () => fullPermissions, topicPermission: () => topic }
    return new VhostAccess(principal, '/', mqttTopicVariables(username, clientId, '/'), { version: 0 })
  }
  return {
    canPublish: (u, c, topic) => topicNameProblem(topic) === null && publishAllowed(access(u, c), 'amq.topic', topic),
    canSubscribe: (u, c, filter) =>
      (filter.startsWith('$share/') || topicFilterProblem(filter) === null) && subscribeAllowed(access(u, c), 'amq.topic', c, filter)
  }
}

describe('topic ACL: which list applies', () => {
  const acl = createTopicAcl(
    auth({
      users: [
        { username: 'own', passwordHash: hash, publish: ['own/#'], subscribe: ['own/+/status'] },
        { username: 'pubonly', passwordHash: hash, publish: ['p/#'] },
        { username: 'none', passwordHash: hash, publish: [], subscribe: [] }
      ],
      defaultAcl: { publish: ['public/#'], subscribe: ['public/#'] }
    })
  )

  test('a user with its own lists is checked against them, not the default', () => {
    assert.equal(acl.canPublish('own', 'c1', 'own/x/y'), true)
    assert.equal(acl.canPublish('own', 'c1', 'public/x'), false)
    assert.equal(acl.canSubscribe('own', 'c1', 'own/dev1/status'), true)
    assert.equal(acl.canSubscribe('own', 'c1', 'own/dev1/other'), false)
  })

  test('a user with only a publish list gets the default subscribe list', () => {
    assert.equal(acl.canPublish('pubonly', 'c', 'p/1'), true)
    assert.equal(acl.canPublish('pubonly', 'c', 'public/1'), false)
    assert.equal(acl.canSubscribe('pubonly', 'c', 'public/#'), true)
    assert.equal(acl.canSubscribe('pubonly', 'c', 'p/#'), false)
  })

  test('anonymous clients and users not listed get the default', () => {
    assert.equal(acl.canPublish(null, 'c', 'public/a'), true)
    assert.equal(acl.canPublish(null, 'c', 'own/a'), false)
    assert.equal(acl.canPublish('stranger', 'c', 'public/a'), true)
    assert.equal(acl.canSubscribe('stranger', 'c', 'own/#'), false)
  })

  test('an empty list allows nothing', () => {
    assert.equal(acl.canPublish('none', 'c', 'public/a'), false)
    assert.equal(acl.canSubscribe('none', 'c', 'public/a'), false)
  })

  test('absent lists allow everything', () => {
    const open = createTopicAcl(auth({ users: [{ username: 'u', passwordHash: hash }] }))
    assert.equal(open.canPublish(null, 'c', 'any/topic'), true)
    assert.equal(open.canSubscribe('u', 'c', '#'), true)
  })
})

describe('topic ACL: publish matching', () => {
  const acl = (patterns: string[]): ReturnType<typeof createTopicAcl> => createTopicAcl(auth({ defaultAcl: { publish: patterns } }))
  const cases: Array<[string, string, boolean]> = [
    ['a/b/c', 'a/b/c', true],
    ['a/b/c', 'a/b', false],
    ['a/b/c', 'a/b/c/d', false],
    ['a/+/c', 'a/x/c', true],
    ['a/+/c', 'a//c', true],
    ['a/+/c', 'a/x/y/c', false],
    ['a/#', 'a', true], // '#' includes the parent level
    ['a/#', 'a/b/c/d', true],
    ['a/#', 'ab', false],
    ['#', 'anything/at/all', true],
    ['+', 'one', true],
    ['+', 'one/two', false],
    ['#', '$SYS/broker', false], // [MQTT-4.7.2-1] wildcards do not match '$' topics at the first level
    ['+/broker', '$SYS/broker', false],
    ['$SYS/#', '$SYS/broker', true],
    ['a/#', 'a/+', false], // a topic name never holds wildcards
    ['#', '', false]
  ]
  for (const [pattern, topic, want] of cases) {
    test(`${pattern} ${want ? 'allows' : 'refuses'} publish to ${JSON.stringify(topic)}`, () => {
      assert.equal(acl([pattern]).canPublish(null, 'c', topic), want)
    })
  }

  test('any matching pattern of the list allows', () => {
    assert.equal(acl(['x/#', 'y/+']).canPublish(null, 'c', 'y/1'), true)
  })
})

describe('topic ACL: subscribe coverage', () => {
  const acl = (patterns: string[]): ReturnType<typeof createTopicAcl> => createTopicAcl(auth({ defaultAcl: { subscribe: patterns } }))
  const cases: Array<[string, string, boolean]> = [
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/+', true],
    ['a/+', 'a/#', false], // 'a/#' reaches a/b/c, which 'a/+' does not
    ['a/+', 'a', false],
    ['a/b', 'a/+', false],
    ['a/#', 'a/+/c', true],
    ['a/#', 'a/#', true],
    ['a/#', 'a', true],
    ['a/#', '#', false],
    ['a/+/#', 'a/#', false], // 'a/#' includes 'a', which 'a/+/#' does not match
    ['a/+/#', 'a/b/#', true],
    ['a/+/#', 'a/b', true],
    ['+/+', '+/+', true],
    ['+/+', '#', false],
    ['#', '#', true],
    ['#', '+/x/#', true],
    ['#', '$SYS/#', false], // [MQTT-4.7.2-1]
    ['+/#', '$SYS/x', false],
    ['$SYS/#', '$SYS/+', true],
    ['a/#', 'a/#/b', false], // invalid filter [MQTT-4.7.1-1]
    ['#', 'a/b+', false], // invalid filter [MQTT-4.7.1-2]
    ['#', '', false]
  ]
  for (const [pattern, filter, want] of cases) {
    test(`${pattern} ${want ? 'covers' : 'does not cover'} ${JSON.stringify(filter)}`, () => {
      assert.equal(acl([pattern]).canSubscribe(null, 'c', filter), want)
    })
  }

  test('a shared subscription is checked by its filter', () => {
    const a = acl(['sensors/#'])
    assert.equal(a.canSubscribe(null, 'c', '$share/workers/sensors/+/temp'), true)
    assert.equal(a.canSubscribe(null, 'c', '$share/workers/other/#'), false)
    assert.equal(a.canSubscribe(null, 'c', '$share/sensors/#'), false, 'the group is not part of the filter')
    assert.equal(a.canSubscribe(null, 'c', '$share//sensors/a'), false, 'empty group')
    assert.equal(a.canSubscribe(null, 'c', '$share/workers'), false, 'no filter')
    assert.equal(acl(['#']).canSubscribe(null, 'c', '$share/g+/a'), false, 'wildcard in group')
  })
})

describe('topic ACL: %u and %c', () => {
  const acl = createTopicAcl(
    auth({
      defaultAcl: {
        publish: ['users/%u/#', 'clients/%c/out', 'mixed/%u-%c/+'],
        subscribe: ['users/%u/#', 'clients/%c/in/+']
      }
    })
  )

  test('substitutes the username and the client id', () => {
    assert.equal(acl.canPublish('alice', 'dev1', 'users/alice/x'), true)
    assert.equal(acl.canPublish('alice', 'dev1', 'users/bob/x'), false)
    assert.equal(acl.canPublish('alice', 'dev1', 'clients/dev1/out'), true)
    assert.equal(acl.canPublish('alice', 'dev1', 'clients/dev2/out'), false)
    assert.equal(acl.canPublish('alice', 'dev1', 'mixed/alice-dev1/z'), true)
    assert.equal(acl.canSubscribe('alice', 'dev1', 'users/alice/+'), true)
    assert.equal(acl.canSubscribe('alice', 'dev1', 'clients/dev1/in/#'), false)
    assert.equal(acl.canSubscribe('alice', 'dev1', 'clients/dev1/in/+'), true)
  })

  test('%u never matches an anonymous client', () => {
    assert.equal(acl.canPublish(null, 'dev1', 'users//x'), false)
    assert.equal(acl.canPublish(null, 'dev1', 'users/null/x'), false)
    assert.equal(acl.canPublish(null, 'dev1', 'clients/dev1/out'), true, '%c still works')
  })

  test('a username or client id with wildcards or slashes never widens access', () => {
    // Username '#' would turn users/%u/# into users/#/#, i.e. every user's topics.
    assert.equal(acl.canPublish('#', 'dev1', 'users/bob/x'), false)
    assert.equal(acl.canPublish('#', 'dev1', 'users/#/x'), false)
    assert.equal(acl.canSubscribe('#', 'dev1', 'users/#'), false)
    assert.equal(acl.canSubscribe('+', 'dev1', 'users/bob/x'), false)
    assert.equal(acl.canSubscribe('+', 'dev1', 'users/+/x'), false)
    // A slash would let 'bob/x' claim users/bob/x/... as its own.
    assert.equal(acl.canPublish('bob/x', 'dev1', 'users/bob/x/y'), false)
    assert.equal(acl.canPublish('alice', '+', 'clients/dev2/out'), false)
    assert.equal(acl.canPublish('alice', 'a/b', 'clients/a/b/out'), false)
    assert.equal(acl.canSubscribe('alice', '#', 'clients/x/in/y'), false)
    // The other patterns of the list still apply.
    assert.equal(acl.canPublish('#', 'dev1', 'clients/dev1/out'), true)
  })

  test('user-specific lists substitute too', () => {
    const own = createTopicAcl(auth({ users: [{ username: 'eve', passwordHash: hash, publish: ['home/%u/%c'] }] }))
    assert.equal(own.canPublish('eve', 'phone', 'home/eve/phone'), true)
    assert.equal(own.canPublish('eve', 'phone', 'home/eve/laptop'), false)
  })
})

test('isValidAclPattern accepts MQTT filters with %u/%c and refuses malformed ones', () => {
  for (const p of ['#', '+', 'a/+/b', 'a/#', 'users/%u/#', 'x/%c-%u', '$SYS/#', 'a//b']) assert.equal(isValidAclPattern(p), true, p)
  for (const p of ['', 'a/#/b', 'a#', 'a/b+', '+a', '#/a', 'a\u0000b']) assert.equal(isValidAclPattern(p), false, p)
})
