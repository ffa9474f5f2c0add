import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadScramServerSecret, scramSecretFileName } from './scram-secret.ts'

test('the SCRAM server secret is made once (0600) and read back the same after a restart', t => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-scram-secret-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const dataDir = join(dir, 'data')
  const first = loadScramServerSecret(dataDir)
  assert.equal(first.length, 32)
  assert.deepEqual(loadScramServerSecret(dataDir), first)
  assert.equal(statSync(join(dataDir, scramSecretFileName)).mode & 0o777, 0o600)
  assert.deepEqual(readdirSync(dataDir), [scramSecretFileName], 'no temporary file left')
})

test('a secret file of the wrong size is refused with the file and the fix', t => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-scram-secret-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, scramSecretFileName), 'short')
  assert.throws(() => loadScramServerSecret(dir), /scram secret: .*scram-secret holds 5 bytes, not 32; delete it/)
})
