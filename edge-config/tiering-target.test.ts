import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { parseTieringUrl, s3Region, tieringTarget, tieringUrl, tieringUrlProblem } from './tiering-target.ts'
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
  assert.deepEqual(tieringTarget(c), { kind: 'file', dir: '/srv/wharf data/50%/cold' })
})

test('parseTieringUrl splits S3 URLs into bucket and prefix and file URLs into a directory', () => {
  assert.deepEqual(parseTieringUrl('s3://wharf-segments'), { kind: 's3', bucket: 'wharf-segments', prefix: '' })
  assert.deepEqual(parseTieringUrl('s3://wharf-segments/edge'), { kind: 's3', bucket: 'wharf-segments', prefix: 'edge' })
  assert.deepEqual(parseTieringUrl('s3://a.b-c/x/y/z'), { kind: 's3', bucket: 'a.b-c', prefix: 'x/y/z' })
  assert.deepEqual(parseTieringUrl('file:///var/cold'), { kind: 'file', dir: '/var/cold' })
  assert.throws(() => parseTieringUrl('s3://a'), /tiering url "s3:\/\/a": has bucket 'a', not an S3 bucket name/)
})

test('tieringUrlProblem refuses what S3 and file URLs cannot be', () => {
  for (const bad of ['s3://a..b', 's3://-abc', 's3://abc-', 's3://' + 'a'.repeat(64), 's3://abc//x', 's3://abc/x?y', 'file:relative', 'file://host/dir', 'file:///a%2Fb', 'http://x', '']) {
    assert.notEqual(tieringUrlProblem(bad), null, bad)
  }
  for (const good of ['s3://abc', 's3://' + 'a'.repeat(63), 's3://1.2.3/x', 'file:///', 'file:///a/b']) {
    assert.equal(tieringUrlProblem(good), null, good)
  }
})

test('s3Region: the configured region, else AWS_REGION, else us-east-1', () => {
  const c = validateConfig({ tiering: { url: 's3://abc' } })
  assert.equal(s3Region(c, {}), 'us-east-1')
  assert.equal(s3Region(c, { AWS_REGION: '' }), 'us-east-1')
  assert.equal(s3Region(c, { AWS_REGION: 'eu-west-1' }), 'eu-west-1')
  c.tiering.s3.region = 'garage'
  assert.equal(s3Region(c, { AWS_REGION: 'eu-west-1' }), 'garage')
})
