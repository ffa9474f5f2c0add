import { test } from 'node:test'
import assert from 'node:assert/strict'
import { scramUsersFrom } from './scram-users.ts'
import { ScramSha256 } from './scram-sha-256.ts'
import { validateConfig } from '../../../edge-config/validate-config.ts'
import { hashPassword } from '../../../core/auth/password-hash.ts'
import { formatScramCredentials, scramCredentialsFor } from '../../../core/auth/scram-credentials.ts'
import { ScramClient } from '../../../test/support/scram-client.ts'

const hash = hashPassword('x')
const scram = (password: string, iterations: number): string => formatScramCredentials(scramCredentialsFor(password, Buffer.alloc(16, 3), iterations))

test('auth.users with scramSha256 log in over SCRAM-SHA-256; users without it fail like unknown ones', async () => {
  const config = validateConfig({
    auth: {
      users: [
        { username: 'sensor', passwordHash: hash, scramSha256: scram('pencil', 5000) },
        { username: 'dash', passwordHash: hash, scramSha256: scram('crayon', 5000) },
        { username: 'legacy', passwordHash: hash },
        { username: 'other', passwordHash: hash, scramSha256: scram('x', 4096) }
      ]
    }
  })
  // The source as the access store gives it: users by exact name (a Map, so '__proto__' finds nothing).
  const byName = new Map(config.auth.users.map(u => [u.username, { scramSha256: u.scramSha256 ?? null }]))
  const users = scramUsersFrom({ user: name => byName.get(name), users: () => [...byName.values()] })
  assert.equal(users.unknownUserIterations, 5000, 'the count most users have')
  assert.equal(users.credentials('legacy'), undefined)
  assert.equal(users.credentials('__proto__'), undefined)
  assert.equal(users.credentials('sensor')?.iterations, 5000)
  const method = new ScramSha256({ ...users, serverSecret: Buffer.alloc(32, 9) })
  const login = async (username: string, password: string): Promise<string> => {
    const client = new ScramClient({ username, password })
    const exchange = method.start({ clientId: 'c', username: undefined })
    const first = await exchange.step(client.clientFirst())
    assert.equal(first.kind, 'continue')
    assert.match(first.data.toString(), /,i=5000$/)
    const last = await exchange.step(client.clientFinal(first.data))
    return last.kind === 'failure' ? `0x${last.reasonCode.toString(16)}` : last.kind
  }
  assert.equal(await login('sensor', 'pencil'), 'success')
  assert.equal(await login('sensor', 'crayon'), '0x86')
  assert.equal(await login('legacy', 'x'), '0x86')
  assert.equal(await login('nobody', 'x'), '0x86')
})

test('no SCRAM users: unknown names are announced with the default 4096 iterations', () => {
  assert.equal(scramUsersFrom({ user: () => undefined, users: () => [] }).unknownUserIterations, 4096)
})
