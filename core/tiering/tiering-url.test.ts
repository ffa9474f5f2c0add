import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTieringUrl } from './tiering-url.ts'

test('file URLs: an absolute directory, percent-decoded as file URLs are', () => {
  assert.deepEqual(parseTieringUrl('file:///var/cold'), { kind: 'file', dir: '/var/cold' })
  assert.deepEqual(parseTieringUrl('file:///'), { kind: 'file', dir: '/' })
  assert.deepEqual(parseTieringUrl('file:///srv/wharf%20data/50%25/cold'), { kind: 'file', dir: '/srv/wharf data/50%/cold' })
})

test('S3 URLs: bucket and prefix; the prefix literal (as the AWS CLI), one trailing slash dropped', () => {
  assert.deepEqual(parseTieringUrl('s3://wharf-segments'), { kind: 's3', bucket: 'wharf-segments', prefix: '' })
  assert.deepEqual(parseTieringUrl('s3://wharf-segments/'), { kind: 's3', bucket: 'wharf-segments', prefix: '' })
  assert.deepEqual(parseTieringUrl('s3://wharf-segments/edge'), { kind: 's3', bucket: 'wharf-segments', prefix: 'edge' })
  assert.deepEqual(parseTieringUrl('s3://a.b-c/x/y/z/'), { kind: 's3', bucket: 'a.b-c', prefix: 'x/y/z' })
  assert.deepEqual(parseTieringUrl('s3://abc/site%20one/%2F'), { kind: 's3', bucket: 'abc', prefix: 'site%20one/%2F' }, 'not decoded: segment keys hold %2F')
  assert.deepEqual(parseTieringUrl('s3://' + 'a'.repeat(63)), { kind: 's3', bucket: 'a'.repeat(63), prefix: '' })
  assert.deepEqual(parseTieringUrl('s3://1.2.3/x'), { kind: 's3', bucket: '1.2.3', prefix: 'x' })
})

test('every refusal says what is wrong', () => {
  const problems: Array<[string, RegExp]> = [
    ['s3://a/x', /has bucket 'a', not an S3 bucket name/],
    ['s3://', /has bucket '', not an S3 bucket name/],
    ['s3://a..b', /not an S3 bucket name/],
    ['s3://-abc', /not an S3 bucket name/],
    ['s3://abc-', /not an S3 bucket name/],
    ['s3://ABC', /not an S3 bucket name/],
    ['s3://' + 'a'.repeat(64), /not an S3 bucket name/],
    ['s3://abc//x', /empty level/],
    ['s3://abc/x//', /empty level/],
    ['s3://abc/x?region=y', /query or fragment/],
    ['s3://abc/x#y', /query or fragment/],
    ['s3://abc/x\\y', /'\\' or NUL/],
    ['s3://user:pw@abc/x', /credentials/],
    ['s3://abc:9000/x', /port/],
    ['s3:abc', /not s3:\/\/<bucket>/],
    ['file:relative', /no absolute path/],
    ['file:./data/cold', /no absolute path/],
    ['file://host/dir', /has a host/],
    ['file:///a?b', /query or fragment/],
    ['file:///a%2Fb', /is not a file path/],
    ['/var/lib/wharf', /scheme other than file: and s3:/],
    ['http://x', /scheme other than file: and s3:/],
    ['gs://bucket/p', /scheme other than file: and s3:/],
    ['', /scheme other than file: and s3:/]
  ]
  for (const [url, problem] of problems) {
    const parsed = parseTieringUrl(url)
    assert.equal(parsed.kind, 'invalid', url)
    assert.ok(parsed.kind === 'invalid')
    assert.match(parsed.problem, problem, url)
  }
})
