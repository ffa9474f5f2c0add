import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConnectionLimits, stricter } from './connection-limits.ts'

test('per-user limit: refused in RabbitMQ words at the limit, admitted again after a release', () => {
  const limits = new ConnectionLimits({ userConnectionsMax: 2, vhostConnectionsMax: 0 })
  const a = limits.acquire('alice', '/')
  const b = limits.acquire('alice', 'other')
  assert.ok(a.ok && b.ok)
  const c = limits.acquire('alice', '/')
  assert.deepEqual(c, { ok: false, limit: 'user', reason: "connection refused for user 'alice': user connection limit (2) is reached" })
  assert.ok(limits.acquire('bob', '/').ok, 'another user is not affected')
  a.release()
  a.release() // twice is once
  assert.equal(limits.connectionsOfUser('alice'), 1)
  assert.ok(limits.acquire('alice', '/').ok)
})

test('per-vhost limit counts every user and anonymous connections', () => {
  const limits = new ConnectionLimits({ userConnectionsMax: 0, vhostConnectionsMax: 2 })
  assert.ok(limits.acquire(null, '/').ok)
  assert.ok(limits.acquire('bob', '/').ok)
  const refused = limits.acquire('carol', '/')
  assert.deepEqual(refused, { ok: false, limit: 'vhost', reason: "access to vhost '/' refused for user 'carol': connection limit (2) is reached" })
  assert.ok(limits.acquire('carol', 'other').ok)
  assert.equal(limits.connectionsInVhost('/'), 2)
})

test('a max-connections set on the user or vhost applies with the global default: the stricter wins, 0 refuses all', () => {
  assert.equal(stricter(0, undefined), -1)
  assert.equal(stricter(5, undefined), 5)
  assert.equal(stricter(0, 3), 3)
  assert.equal(stricter(5, 3), 3)
  assert.equal(stricter(2, 3), 2)
  assert.equal(stricter(5, -1), 5)
  assert.equal(stricter(5, 0), 0)
  const own = new Map([['u', 1]])
  const limits = new ConnectionLimits({
    userConnectionsMax: 3,
    vhostConnectionsMax: 0,
    userLimit: u => own.get(u),
    vhostLimit: v => (v === 'closed' ? 0 : undefined)
  })
  assert.ok(limits.acquire('u', '/').ok)
  const refused = limits.acquire('u', '/')
  assert.ok(!refused.ok && refused.reason === "connection refused for user 'u': user connection limit (1) is reached")
  assert.ok(limits.acquire('v', '/').ok)
  const closed = limits.acquire('v', 'closed')
  assert.ok(!closed.ok && closed.limit === 'vhost')
})
