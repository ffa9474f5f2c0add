// Runs the ObjectStore contract against the directory store and against S3 (a real s3rver over
// HTTP), plus what only one backend has: directory key checks and .tmp files, an S3 outage.

import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startS3Server, type S3Server } from '../../test/support/s3-server.ts'
import { DirectoryObjectStore } from './directory-object-store.ts'
import { runObjectStoreContract } from './object-store.contract.ts'
import { objectStoreFromUrl } from './object-store-from-url.ts'
import { isObjectNotFound } from './object-store.ts'
import { S3ObjectStore, type S3ObjectStoreOptions } from './s3-object-store.ts'

const TEST_TIMEOUT_MS = 30_000

async function tempDir(): Promise<string> {
  return await mkdtemp(path.join(os.tmpdir(), 'wharf-object-store-'))
}

runObjectStoreContract('directory', async () => {
  const dir = await tempDir()
  const store = new DirectoryObjectStore(path.join(dir, 'cold'))
  return {
    store,
    close: async () => {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
})

let server: S3Server
let storeCount = 0
before(async () => {
  server = await startS3Server()
})
after(async () => {
  await server.close()
})

function s3Store(extra: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore {
  return new S3ObjectStore({
    bucket: server.bucket,
    prefix: `t${storeCount++}/wharf`,
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: server.credentials,
    // A small page so every listing above a few keys is paginated.
    listPageSize: 3,
    ...extra
  })
}

runObjectStoreContract('s3 (s3rver)', async () => {
  const store = s3Store()
  return {
    store,
    close: async () => {
      await store.close()
    }
  }
})

describe('DirectoryObjectStore', () => {
  it('refuses keys that leave the root or are not plain paths', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = await tempDir()
    try {
      const store = new DirectoryObjectStore(dir)
      for (const key of ['../escape', 'a/../../b', '/etc/passwd', 'a//b', 'a/', '', 'a/./b', 'x.seg.tmp-123']) {
        await assert.rejects(store.put(key, Buffer.from('x')), /dir: put .*invalid key/, JSON.stringify(key))
        await assert.rejects(store.get(key), /invalid key/, JSON.stringify(key))
      }
      await assert.rejects(store.list('../'), /dir: list .*invalid key/)
      assert.deepEqual(await readdir(dir), [], 'nothing was written')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('lists no unfinished .tmp files and writes objects as plain files', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = await tempDir()
    try {
      const store = new DirectoryObjectStore(dir)
      await store.put('segments/%2F/s/0000000000000000-000000000000001f.seg', Buffer.from('done'))
      // What a crash between write and rename leaves behind.
      await writeFile(path.join(dir, 'segments', '%2F', 's', '0000000000000020-000000000000002f.seg.tmp-abcdef'), 'torn')
      assert.deepEqual(await store.list(''), [{ key: 'segments/%2F/s/0000000000000000-000000000000001f.seg', sizeBytes: 4 }])
      assert.deepEqual(await readdir(path.join(dir, 'segments', '%2F', 's')), [
        '0000000000000000-000000000000001f.seg',
        '0000000000000020-000000000000002f.seg.tmp-abcdef'
      ])
      assert.equal(store.description, `dir ${dir}`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('S3ObjectStore', () => {
  it('an outage fails fast with an s3 error (never not-found), and works again after restart', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store = s3Store()
    try {
      await store.put('before', Buffer.from('kept'))
      await server.stop()
      await assert.rejects(store.put('during', Buffer.from('x')), /^Error: s3: put s3:\/\/wharf-test\/t\d+\/wharf\/during: .*ECONNREFUSED/)
      await assert.rejects(store.get('before'), (err: unknown) => {
        assert.equal(isObjectNotFound(err), false, 'an unreachable store must not look like a missing object')
        assert.match(String(err), /s3: get /)
        return true
      })
      await assert.rejects(store.list(''), /s3: list /)
      assert.equal(store.stats.failures, 3)
      await server.restart()
      await store.put('during', Buffer.from('x'))
      assert.deepEqual(await store.get('before'), Buffer.from('kept'))
      assert.deepEqual(
        (await store.list('')).map(i => i.key),
        ['before', 'during']
      )
    } finally {
      await store.close()
    }
  })

  it('a missing bucket is an error, not an empty store', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store = s3Store({ bucket: 'no-such-bucket' })
    try {
      await assert.rejects(store.get('k'), (err: unknown) => {
        assert.equal(isObjectNotFound(err), false)
        assert.match(String(err), /s3: get s3:\/\/no-such-bucket\/.*NoSuchBucket/)
        return true
      })
      await assert.rejects(store.list(''), /s3: list .*NoSuchBucket/)
    } finally {
      await store.close()
    }
  })

  it('refuses a list page size S3 cannot serve', () => {
    assert.throws(() => s3Store({ listPageSize: 0 }), /listPageSize 0/)
    assert.throws(() => s3Store({ listPageSize: 1001 }), /listPageSize 1001/)
  })
})

describe('objectStoreFromUrl', () => {
  const opts = { s3Endpoint: null, s3ForcePathStyle: false, s3Region: 'us-east-1' }

  it('file:///abs/dir is a directory store', () => {
    const store = objectStoreFromUrl('file:///var/lib/wharf/cold', opts)
    assert.ok(store instanceof DirectoryObjectStore)
    assert.equal(store.description, 'dir /var/lib/wharf/cold')
  })

  it('s3://bucket/prefix is an S3 store with that prefix', { timeout: TEST_TIMEOUT_MS }, async () => {
    assert.equal(objectStoreFromUrl('s3://my-bucket/edge/site-1/', opts).description, 's3://my-bucket/edge/site-1')
    assert.equal(objectStoreFromUrl('s3://my-bucket', opts).description, 's3://my-bucket/')
    const store = objectStoreFromUrl(`s3://${server.bucket}/from-url`, { s3Endpoint: server.endpoint, s3ForcePathStyle: true, s3Region: server.region })
    assert.ok(store instanceof S3ObjectStore)
    // Credentials come from the AWS environment, as in production.
    const saved = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'] }
    process.env['AWS_ACCESS_KEY_ID'] = server.credentials.accessKeyId
    process.env['AWS_SECRET_ACCESS_KEY'] = server.credentials.secretAccessKey
    try {
      await store.put('k', Buffer.from('v'))
      assert.deepEqual(await store.get('k'), Buffer.from('v'))
    } finally {
      restoreEnv('AWS_ACCESS_KEY_ID', saved.id)
      restoreEnv('AWS_SECRET_ACCESS_KEY', saved.secret)
      await store.close()
    }
  })

  it('anything else is refused with the url and what is allowed', () => {
    for (const url of [
      '/var/lib/wharf',
      'file:./data/cold',
      'file://host/dir',
      'http://bucket/x',
      's3://',
      's3://user:pw@bucket/p',
      's3://bucket:9000/p',
      's3://bucket/p?region=x',
      'gs://bucket/p'
    ]) {
      assert.throws(
        () => objectStoreFromUrl(url, opts),
        (err: unknown) => {
          assert.ok(err instanceof Error)
          assert.ok(err.message.includes(JSON.stringify(url)), err.message)
          assert.match(err.message, /; allowed: file:\/\/\/<absolute dir> or s3:\/\/<bucket>\[\/<prefix>\]$/)
          return true
        },
        url
      )
    }
  })
})

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name]
  else process.env[name] = value
}
