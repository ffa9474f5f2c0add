import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultBridge, defaultConfig } from './defaults.ts'
import { bridgeFileProblems } from './bridge-files.ts'

test('each bridge TLS file that cannot be read is named with its field and cause', t => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bridge-files-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const ca = join(dir, 'ca.pem')
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n')
  const c = defaultConfig()
  c.bridges = [
    { ...defaultBridge(), name: 'ok', url: 'mqtts://cloud', tls: { ...defaultBridge().tls, caFile: ca } },
    {
      ...defaultBridge(),
      name: 'bad',
      url: 'amqps://cloud',
      tls: { ...defaultBridge().tls, caFile: dir, certFile: join(dir, 'no.pem'), keyFile: join(dir, 'no.key') }
    }
  ]
  const problems = bridgeFileProblems(c, 'wharf.yaml').map(p => p.message)
  assert.equal(problems.length, 3)
  assert.match(problems[0] ?? '', /^config \(wharf\.yaml\): bridges\[1\]\.tls\.caFile = ".*": must be a readable file: EISDIR/)
  assert.match(problems[1] ?? '', /bridges\[1\]\.tls\.certFile = ".*no\.pem": must be a readable file: ENOENT/)
  assert.match(problems[2] ?? '', /bridges\[1\]\.tls\.keyFile = ".*no\.key": must be a readable file: ENOENT/)
})
