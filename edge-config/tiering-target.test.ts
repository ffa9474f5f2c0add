import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { s3Region, tieringUrl, tieringUrlProblem } from './tiering-target.ts'
import { parseTieringUrl } from '../core/tiering/tiering-url.ts'
import { defaultConfig } from './defaults.ts'
import { validateConfig } from './validate-config.ts'

test('tieringUrl resolves null to file://<absolute dataDir>/cold and keeps a set URL', () => {
  const c = defaultConfig()
  assert.equal(tieringUrl(c), `file://${resolve('data', 'cold')}`)
  c.dataDir = '/var/lib/wharf'
  assert.equal(tieringUrl(c), 'file:///var/lib/wharf/cold')
  c.tiering.url = 's3://wharf-segments/edge'
  assert.equal(tieringUrl(c), 's3://wharf-segments/edge')
})

test('a dataDir with spaces or % gives a URL that parses back to the same directory', () => {
  const c = defaultConfig()
  c.dataDir = '/srv/wharf data/50%'
  const url = tieringUrl(c)
  assert.equal(tieringUrlProblem(url), null, url)
  assert.deepEqual(parseTieringUrl(url), { kind: 'file', dir: '/srv/wharf data/50%/cold' })
})

test("tieringUrlProblem is the problem core's parser finds (core/tiering/tiering-url.test.ts has the table)", () => {
  assert.equal(tieringUrlProblem('s3://abc/x/'), null)
  assert.equal(tieringUrlProblem('file:///a/b'), null)
  assert.match(tieringUrlProblem('s3://a/x') ?? '', /has bucket 'a'/)
})

test('s3Region: the configured region, else AWS_REGION, else us-east-1', () => {
  const c = validateConfig({ tiering: { url: 's3://abc' } })
  assert.equal(s3Region(c, {}), 'us-east-1')
  assert.equal(s3Region(c, { AWS_REGION: '' }), 'us-east-1')
  assert.equal(s3Region(c, { AWS_REGION: 'eu-west-1' }), 'eu-west-1')
  c.tiering.s3.region = 'garage'
  assert.equal(s3Region(c, { AWS_REGION: 'eu-west-1' }), 'garage')
})
