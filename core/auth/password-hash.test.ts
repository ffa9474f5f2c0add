import { test } from 'node:test'
import assert from 'node:assert/strict'
import { scryptSync } from 'node:crypto'
import { hashPassword, isPasswordHash, verifyPassword } from './password-hash.ts'

const encoded = hashPassword('correct horse battery staple')

test('the hash has the documented form and parameters', () => {
  const parts = encoded.split('$')
  assert.equal(parts.length, 6)
  assert.deepEqual(parts.slice(0, 4), ['scrypt', '16384', '8', '1'])
  assert.equal(Buffer.from(parts[4] as string, 'base64').length, 16)
  assert.equal(Buffer.from(parts[5] as string, 'base64').length, 32)
  assert.ok(isPasswordHash(encoded))
})

test('round trip: the right password verifies, a wrong one does not', () => {
  assert.equal(verifyPassword('correct horse battery staple', encoded), true)
  assert.equal(verifyPassword('correct horse battery stapler', encoded), false)
  assert.equal(verifyPassword('', encoded), false)
})

test('salted: the same password hashes differently each time', () => {
  const again = hashPassword('correct horse battery staple')
  assert.notEqual(again, encoded)
  assert.equal(verifyPassword('correct horse battery staple', again), true)
})

test('non-ASCII passwords round trip', () => {
  assert.equal(verifyPassword('pässwörd 🔑', hashPassword('pässwörd 🔑')), true)
})

test('malformed or unsupported hashes never verify and are not hashes', () => {
  const [, , , , salt, hash] = encoded.split('$') as [string, string, string, string, string, string]
  const bad = [
    '',
    'hunter2',
    'correct horse battery staple',
    `bcrypt$16384$8$1$${salt}$${hash}`,
    `scrypt$16384$8$1$${salt}`,
    `scrypt$16384$8$1$${salt}$${hash}$extra`,
    `scrypt$16000$8$1$${salt}$${hash}`, // N not a power of two
    `scrypt$1$8$1$${salt}$${hash}`,
    `scrypt$2097152$8$1$${salt}$${hash}`, // N above the bound
    `scrypt$16384$0$1$${salt}$${hash}`,
    `scrypt$16384$8$99$${salt}$${hash}`,
    `scrypt$016384$8$1$${salt}$${hash}`,
    `scrypt$16384$8$1$${salt}$not*base64`,
    `scrypt$16384$8$1$$${hash}`,
    `scrypt$16384$8$1$${salt}$${Buffer.alloc(4).toString('base64')}`, // hash too short
    `scrypt$16384$8$1$${Buffer.alloc(2).toString('base64')}$${hash}` // salt too short
  ]
  for (const s of bad) {
    assert.equal(isPasswordHash(s), false, s)
    assert.equal(verifyPassword('correct horse battery staple', s), false, s)
  }
  assert.equal(isPasswordHash(42), false)
  assert.equal(isPasswordHash(null), false)
})

test('a hash with other valid parameters verifies (N, r, p and lengths are read from the hash)', () => {
  const [, , , , salt] = encoded.split('$') as [string, string, string, string, string]
  // Computed independently with the same node:crypto primitive, different parameters.
  const key = scryptSync('pw', Buffer.from(salt, 'base64'), 24, { N: 1024, r: 4, p: 2 })
  const other = `scrypt$1024$4$2$${salt}$${key.toString('base64')}`
  assert.ok(isPasswordHash(other))
  assert.equal(verifyPassword('pw', other), true)
  assert.equal(verifyPassword('pW', other), false)
})

test('verifyPasswordAsync agrees with verifyPassword', async () => {
  const { hashPassword: hash, verifyPasswordAsync } = await import('./password-hash.ts')
  const h = hash('correct horse')
  assert.equal(await verifyPasswordAsync('correct horse', h), true)
  assert.equal(await verifyPasswordAsync('wrong', h), false)
  assert.equal(await verifyPasswordAsync('x', 'scrypt$garbage'), false)
})

test('RabbitMQ password hashes (imported users) verify: sha256, sha512, md5', async () => {
  const { rabbitHash, rabbitStoredHash } = await import('./rabbit-password-hash.ts')
  const { verifyPasswordAsync } = await import('./password-hash.ts')
  // What rabbitmqctl hash_password would print for "guest" with this salt (salt ++ sha256(salt ++ password)).
  const salt = Buffer.from([1, 2, 3, 4])
  for (const algorithm of ['rabbit_password_hashing_sha256', 'rabbit_password_hashing_sha512', 'rabbit_password_hashing_md5'] as const) {
    const stored = rabbitStoredHash(algorithm, rabbitHash('guest', algorithm, salt))
    assert.ok(stored !== null && isPasswordHash(stored), algorithm)
    assert.equal(verifyPassword('guest', stored), true)
    assert.equal(verifyPassword('Guest', stored), false)
    assert.equal(await verifyPasswordAsync('guest', stored), true)
  }
  assert.equal(rabbitStoredHash('rabbit_password_hashing_sha256', 'AAAA'), null, 'too short for salt and digest')
})
