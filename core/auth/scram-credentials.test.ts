import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatScramCredentials, isScramCredentials, newScramCredentials, parseScramCredentials, scramCredentialsFor } from './scram-credentials.ts'

// RFC 7677 §3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations. The keys
// were computed apart from this code (Python hashlib); scram-sha-256.test.ts replays the RFC's exchange.
const rfcSalt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64')
const rfcStoredKey = 'WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY='
const rfcServerKey = 'wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU='
const rfcEncoded = `SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$${rfcStoredKey}:${rfcServerKey}`

test('scramCredentialsFor: the RFC 7677 test vector', () => {
  const c = scramCredentialsFor('pencil', rfcSalt, 4096)
  assert.equal(c.iterations, 4096)
  assert.deepEqual(c.salt, rfcSalt)
  assert.equal(c.storedKey.toString('base64'), rfcStoredKey)
  assert.equal(c.serverKey.toString('base64'), rfcServerKey)
  assert.equal(formatScramCredentials(c), rfcEncoded)
})

test('the RFC 5803 string parses back to the same credentials', () => {
  assert.deepEqual(parseScramCredentials(rfcEncoded), scramCredentialsFor('pencil', rfcSalt, 4096))
  const fresh = newScramCredentials('hunter2')
  assert.equal(fresh.iterations, 4096)
  assert.equal(fresh.salt.length, 16)
  assert.deepEqual(parseScramCredentials(formatScramCredentials(fresh)), fresh)
  assert.notDeepEqual(newScramCredentials('hunter2').salt, fresh.salt, 'a fresh random salt each time')
})

test('malformed or out-of-bounds credentials are refused, never thrown', () => {
  const key = Buffer.alloc(32, 1).toString('base64')
  const salt = Buffer.alloc(16, 2).toString('base64')
  const bad = [
    '',
    'hunter2',
    'scrypt$16384$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==',
    `SCRAM-SHA-1$4096:${salt}$${key}:${key}`,
    `SCRAM-SHA-256$4096:${salt}$${key}`,
    `SCRAM-SHA-256$4096:${salt}$${key}:${key}:${key}`,
    `SCRAM-SHA-256$4096:${salt}:x$${key}:${key}`,
    `SCRAM-SHA-256$4096:${salt}$${key}:${key}$`,
    `SCRAM-SHA-256$1024:${salt}$${key}:${key}`, // below RFC 7677's 4096
    `SCRAM-SHA-256$10000001:${salt}$${key}:${key}`,
    `SCRAM-SHA-256$04096:${salt}$${key}:${key}`,
    `SCRAM-SHA-256$4096:AAAA$${key}:${key}`, // 3-byte salt
    `SCRAM-SHA-256$4096:${salt}$${Buffer.alloc(20).toString('base64')}:${key}`, // SHA-1 sized key
    `SCRAM-SHA-256$4096:${salt}$${key.replace('=', '')}:${key}`, // not canonical base64
    `SCRAM-SHA-256$4096:${salt}$${key}:${key} `
  ]
  for (const s of bad) assert.equal(parseScramCredentials(s), null, s)
  assert.equal(isScramCredentials(42), false)
  assert.equal(isScramCredentials(null), false)
  assert.equal(isScramCredentials(rfcEncoded), true)
})
