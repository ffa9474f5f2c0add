import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { parse } from 'yaml'
import { passwdCommand } from './passwd-command.ts'
import { validateConfig } from '../edge-config/validate-config.ts'
import { verifyPassword } from '../core/auth/password-hash.ts'
import { parseScramCredentials, scramCredentialsFor } from '../core/auth/scram-credentials.ts'

async function passwd(argv: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const out: string[] = []
  const err: string[] = []
  stdout.on('data', c => out.push(String(c)))
  stderr.on('data', c => err.push(String(c)))
  const code = await passwdCommand(argv, { stdin: [Buffer.from(input)], stdout, stderr })
  return { code, stdout: out.join(''), stderr: err.join('') }
}

test('passwd --scram prints a users entry that validates and holds the credentials of the password', async () => {
  const r = await passwd(['--scram'], 'pencil\n')
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stderr, '')
  const entry = parse(`username: user\n${r.stdout}`) as Record<string, string>
  const config = validateConfig({ auth: { users: [entry] } })
  const user = config.auth.users[0]
  assert.ok(user?.scramSha256 !== undefined)
  assert.equal(verifyPassword('pencil', user.passwordHash), true)
  const scram = parseScramCredentials(user.scramSha256)
  assert.ok(scram)
  assert.equal(scram.iterations, 4096)
  assert.deepEqual(scramCredentialsFor('pencil', scram.salt, scram.iterations), scram)
})

test('passwd --scram --iterations N sets the iteration count', async () => {
  for (const argv of [
    ['--scram', '--iterations', '5000'],
    ['--iterations=5000', '--scram']
  ]) {
    const r = await passwd(argv, 'pencil')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^scramSha256: SCRAM-SHA-256\$5000:/m)
  }
})

test('passwd without --scram prints the scrypt hash alone, as before', async () => {
  const r = await passwd([], 'hunter2\n')
  assert.equal(r.code, 0)
  assert.match(r.stdout, /^scrypt\$[^\n]+\n$/)
  assert.equal(verifyPassword('hunter2', r.stdout.trim()), true)
})

test('passwd refuses bad iterations, stray arguments and an empty password', async () => {
  for (const [argv, message] of [
    [['--scram', '--iterations', '1000'], /--iterations 1000: must be an integer 4096-10000000/],
    [['--scram', '--iterations'], /--iterations \(missing\)/],
    [['--scram', '--iterations', '4e3'], /must be an integer/],
    [['--iterations', '5000'], /--iterations applies to --scram only/],
    [['--sram'], /unknown argument "--sram"/]
  ] as Array<[string[], RegExp]>) {
    const r = await passwd(argv, 'pencil')
    assert.equal(r.code, 2, argv.join(' '))
    assert.match(r.stderr, message)
    assert.equal(r.stdout, '')
  }
  assert.equal((await passwd(['--scram'], '\n')).code, 1)
})

test('passwd --scram warns that a non-ASCII password skips SASLprep', async () => {
  const r = await passwd(['--scram'], 'pässwörd')
  assert.equal(r.code, 0)
  assert.match(r.stderr, /not printable ASCII; SCRAM clients that apply SASLprep/)
})
