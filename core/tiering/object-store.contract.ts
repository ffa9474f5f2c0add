// The one contract every ObjectStore passes (as aedes-persistence's abstract suite): the directory
// and S3 backends must answer every call here alike, "not found" and key order included.
// Each test makes its own empty store and closes it.

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { ObjectNotFoundError, ObjectRangeError, isObjectNotFound, type ObjectStore } from './object-store.ts'

export interface ContractStore {
  readonly store: ObjectStore
  close(): Promise<void>
}

const TEST_TIMEOUT_MS = 30_000

export function runObjectStoreContract(name: string, makeStore: () => Promise<ContractStore>): void {
  const test = (title: string, body: (store: ObjectStore) => Promise<void>): void => {
    it(title, { timeout: TEST_TIMEOUT_MS }, async () => {
      const made = await makeStore()
      try {
        await body(made.store)
      } finally {
        await made.close()
      }
    })
  }

  describe(`ObjectStore contract: ${name}`, () => {
    test('put then get returns the same bytes: binary, empty, 1 MiB', async store => {
      const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
      const big = randomBytes(1024 * 1024)
      await store.put('bin', everyByte)
      await store.put('empty', Buffer.alloc(0))
      await store.put('big/one-mib', big)
      assert.deepEqual(await store.get('bin'), everyByte)
      assert.deepEqual(await store.get('empty'), Buffer.alloc(0))
      assert.ok((await store.get('big/one-mib')).equals(big))
      assert.deepEqual(await store.head('big/one-mib'), { key: 'big/one-mib', sizeBytes: big.length })
      assert.deepEqual(await store.head('empty'), { key: 'empty', sizeBytes: 0 })
      assert.equal(store.stats.puts, 3)
      assert.equal(store.stats.gets, 3)
      assert.equal(store.stats.getBytes, 256 + big.length)
      assert.equal(store.stats.failures, 0)
    })

    test('a ranged get returns exactly that range, one request each', async store => {
      const body = randomBytes(100_000)
      await store.put('seg/ranged', body)
      const ranges = [
        { offset: 0, length: 10 },
        { offset: 40_000, length: 12_345 },
        { offset: body.length - 7, length: 7 },
        { offset: 0, length: body.length },
        { offset: 99_999, length: 1 }
      ]
      for (const range of ranges) {
        const got = await store.get('seg/ranged', range)
        assert.ok(got.equals(body.subarray(range.offset, range.offset + range.length)), `range ${range.offset}+${range.length}`)
      }
      assert.equal(store.stats.gets, ranges.length)
      assert.equal(
        store.stats.getBytes,
        ranges.reduce((sum, r) => sum + r.length, 0)
      )
    })

    test('a range not wholly inside the object is an ObjectRangeError, not a short read or not-found', async store => {
      await store.put('short', Buffer.from('0123456789'))
      for (const range of [
        { offset: 5, length: 6 },
        { offset: 10, length: 1 },
        { offset: 1000, length: 5 }
      ]) {
        await assert.rejects(store.get('short', range), (err: unknown) => {
          assert.ok(err instanceof ObjectRangeError, `range ${range.offset}+${range.length}: ${String(err)}`)
          assert.equal(isObjectNotFound(err), false)
          assert.equal(err.key, 'short')
          return true
        })
      }
      await assert.rejects(store.get('short', { offset: 0, length: 0 }), RangeError)
      await assert.rejects(store.get('short', { offset: -1, length: 2 }), RangeError)
    })

    test('get of a missing key is ObjectNotFoundError, with or without a range', async store => {
      await store.put('present/a', Buffer.from('a'))
      for (const key of ['missing', 'present', 'present/b', 'present/a/deeper']) {
        for (const range of [undefined, { offset: 0, length: 1 }]) {
          await assert.rejects(store.get(key, range), (err: unknown) => {
            assert.ok(err instanceof ObjectNotFoundError, `${key}: ${String(err)}`)
            assert.ok(isObjectNotFound(err))
            assert.equal(err.code, 'OBJECT_NOT_FOUND')
            assert.equal(err.key, key)
            assert.match(err.message, /no such object/)
            return true
          })
        }
      }
      assert.equal(store.stats.failures, 0, 'not-found is an answer, not a failure')
    })

    test('head tells size or null', async store => {
      await store.put('h/one', Buffer.from('hello'))
      assert.deepEqual(await store.head('h/one'), { key: 'h/one', sizeBytes: 5 })
      assert.equal(await store.head('h/two'), null)
      assert.equal(await store.head('h'), null)
      assert.equal(await store.head('nothing/at/all'), null)
    })

    test('put overwrites', async store => {
      await store.put('o/k', Buffer.from('first version, longer'))
      await store.put('o/k', Buffer.from('second'))
      assert.deepEqual(await store.get('o/k'), Buffer.from('second'))
      assert.deepEqual(await store.head('o/k'), { key: 'o/k', sizeBytes: 6 })
      assert.deepEqual(await store.list('o/'), [{ key: 'o/k', sizeBytes: 6 }])
    })

    test('list returns every key with the prefix, in key order, across nested dirs and pages', async store => {
      const keys = [
        'segments/%2F/sensors/0000000000000010-000000000000001f.seg',
        'segments/%2F/sensors/0000000000000000-000000000000000f.seg',
        'segments/%2F/sensors/0000000000000020-000000000000002f.seg',
        'segments/%2F/alarms/0000000000000000-0000000000000003.seg',
        'segments/%2F/alarms-archive/0000000000000000-0000000000000003.seg',
        'segments/prod/sensors/0000000000000000-00000000000000ff.seg',
        'segments/prod/sensors/0000000000000100-00000000000001ff.seg',
        'segments/z.seg',
        'segmentsX/other',
        'manifest',
        'a/b/c/d/e',
        'a/b-c'
      ]
      // Unequal sizes so a wrong size pairing shows.
      const sizeOf = (key: string): number => key.length % 7
      for (const key of keys) await store.put(key, Buffer.alloc(sizeOf(key), 1))
      const infos = (prefix: string): Array<{ key: string; sizeBytes: number }> =>
        keys
          .filter(k => k.startsWith(prefix))
          .sort()
          .map(key => ({ key, sizeBytes: sizeOf(key) }))

      for (const prefix of [
        '',
        'segments/',
        'segments',
        'segments/%2F/',
        'segments/%2F/sensors/',
        'segments/%2F/alarms',
        'segments/%2F/sensors/00000000000000',
        'a/',
        'a/b',
        'nope/',
        'nope'
      ]) {
        assert.deepEqual(await store.list(prefix), infos(prefix), `prefix ${JSON.stringify(prefix)}`)
      }
      assert.equal(store.stats.lists, 11)
    })

    test('list sees all of many objects put at once into new dirs', async store => {
      const keys = Array.from({ length: 25 }, (_, i) => `many/${i % 3}/${String(i).padStart(4, '0')}`)
      await Promise.all(keys.map(async key => await store.put(key, Buffer.from(key))))
      const listed = await store.list('many/')
      assert.deepEqual(
        listed.map(i => i.key),
        [...keys].sort()
      )
      for (const info of listed) assert.equal(info.sizeBytes, Buffer.byteLength(info.key))
    })

    test('keys sort by UTF-8 bytes, as S3 lists them', async store => {
      // UTF-16 order puts U+1F600 (surrogates D83D...) before U+FF5E; UTF-8 bytes put it after.
      const keys = ['u/\u{ff5e}', 'u/\u{1f600}', 'u/Z', 'u/a', 'u/~']
      for (const key of keys) await store.put(key, Buffer.from('x'))
      assert.deepEqual(
        (await store.list('u/')).map(i => i.key),
        ['u/Z', 'u/a', 'u/~', 'u/\u{ff5e}', 'u/\u{1f600}']
      )
    })

    test('delete removes, and deleting a missing key is not an error', async store => {
      await store.put('d/one', Buffer.from('1'))
      await store.put('d/two', Buffer.from('2'))
      await store.delete('d/one')
      await assert.rejects(store.get('d/one'), ObjectNotFoundError)
      assert.equal(await store.head('d/one'), null)
      assert.deepEqual(await store.list('d/'), [{ key: 'd/two', sizeBytes: 1 }])
      await store.delete('d/one')
      await store.delete('never/was/here')
      assert.equal(store.stats.deletes, 3)
      assert.equal(store.stats.failures, 0)
      assert.deepEqual(await store.get('d/two'), Buffer.from('2'))
    })

    test('keys with percent-encoded parts (vhost names) are stored as given', async store => {
      const keys = [
        'segments/%2F/sensors/0000000000000000-000000000000001f.seg',
        'segments/a%2Fb/sensors/0000000000000000-000000000000001f.seg',
        'segments/%25/x y+z=&?/0000000000000000-000000000000001f.seg'
      ]
      for (const [i, key] of keys.entries()) await store.put(key, Buffer.from(`body ${i}`))
      for (const [i, key] of keys.entries()) {
        assert.deepEqual(await store.get(key), Buffer.from(`body ${i}`), key)
        assert.deepEqual(await store.head(key), { key, sizeBytes: Buffer.byteLength(`body ${i}`) })
      }
      assert.deepEqual(
        (await store.list('segments/')).map(i => i.key),
        [...keys].sort()
      )
      assert.deepEqual(
        (await store.list('segments/%2F/')).map(i => i.key),
        [keys[0]]
      )
      // The decoded form is another key.
      assert.equal(await store.head('segments/a/b/sensors/0000000000000000-000000000000001f.seg'), null)
    })
  })
}
