import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BlockCache, type BlockRecords } from './block-cache.ts'
import { decodedRecordsBytes } from './decoded-size.ts'
import type { StreamRecord } from '../streams/stream-record.ts'

function block(firstOffset: number, count: number, bodyBytes: number): StreamRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    offset: firstOffset + i,
    timestampMs: 1_700_000_000_000 + firstOffset + i,
    exchange: 'ex',
    routingKey: 'rk',
    properties: { contentType: 'text/plain', headers: { a: 1 } },
    body: Buffer.alloc(bodyBytes, i)
  }))
}

/** A loader that counts its calls, resolving when told to (so tests order events without timing). */
function controlledLoader(records: BlockRecords): { load: () => Promise<BlockRecords>; calls: () => number; release: () => void; fail: (err: Error) => void } {
  let calls = 0
  let resolve: (r: BlockRecords) => void = () => {}
  let reject: (e: Error) => void = () => {}
  const gate = new Promise<BlockRecords>((res, rej) => {
    resolve = res
    reject = rej
  })
  return {
    load: async () => {
      calls++
      return await gate
    },
    calls: () => calls,
    release: () => resolve(records),
    fail: err => reject(err)
  }
}

test('block cache: decoded bytes held never exceed cacheBytesMax; least recently used goes first', { timeout: 5000 }, async () => {
  const oneBlockBytes = decodedRecordsBytes(block(0, 10, 100))
  const cache = new BlockCache({ cacheBytesMax: oneBlockBytes * 3 })
  let loads = 0
  const load = (first: number) => async () => {
    loads++
    return block(first, 10, 100)
  }
  for (let i = 0; i < 50; i++) {
    await cache.get('seg-a', i, load(i * 10))
    assert.ok(cache.stats.bytes <= oneBlockBytes * 3, `bytes ${cache.stats.bytes} within the bound after block ${i}`)
    if (i >= 2) {
      // Touch the block before this one: it stays resident while older ones are evicted.
      await cache.get('seg-a', i - 1, load((i - 1) * 10))
    }
  }
  const s = cache.stats
  assert.equal(s.entries, 3)
  assert.equal(s.bytes, oneBlockBytes * 3)
  assert.equal(s.maxBytesSeen, oneBlockBytes * 3)
  assert.equal(s.misses, 50)
  assert.equal(s.hits, 48)
  assert.equal(loads, 50)
  assert.equal(s.evictions, 47)
  assert.ok(cache.has('seg-a', 49) && cache.has('seg-a', 48) && cache.has('seg-a', 47))
  assert.ok(!cache.has('seg-a', 46))
})

test('block cache: the LRU order follows reads, not loads', { timeout: 5000 }, async () => {
  const bytes = decodedRecordsBytes(block(0, 1, 10))
  const cache = new BlockCache({ cacheBytesMax: bytes * 2 })
  const load = async () => block(0, 1, 10)
  await cache.get('k', 0, load)
  await cache.get('k', 1, load)
  await cache.get('k', 0, load) // 0 is now the most recent
  await cache.get('k', 2, load) // evicts 1
  assert.ok(cache.has('k', 0))
  assert.ok(!cache.has('k', 1))
  assert.ok(cache.has('k', 2))
})

test('block cache: two readers of one block share one load', { timeout: 5000 }, async () => {
  const cache = new BlockCache({ cacheBytesMax: 1 << 20 })
  const records = block(0, 5, 10)
  const loader = controlledLoader(records)
  const a = cache.get('seg', 0, loader.load)
  const b = cache.get('seg', 0, loader.load)
  loader.release()
  assert.equal(await a, records)
  assert.equal(await b, records)
  assert.equal(loader.calls(), 1)
  assert.deepEqual({ misses: cache.stats.misses, joins: cache.stats.joins }, { misses: 1, joins: 1 })
})

test('block cache: a prefetch loads once; the read after it is a hit, a read during it joins', { timeout: 5000 }, async () => {
  const cache = new BlockCache({ cacheBytesMax: 1 << 20 })
  const loader = controlledLoader(block(0, 5, 10))
  const started = cache.prefetch('seg', 1, loader.load)
  assert.ok(started !== null)
  assert.equal(cache.prefetch('seg', 1, loader.load), null, 'a second prefetch of a loading block starts nothing')
  const during = cache.get('seg', 1, loader.load)
  loader.release()
  await during
  await cache.settled()
  await cache.get('seg', 1, loader.load)
  assert.equal(cache.prefetch('seg', 1, loader.load), null, 'a resident block is not prefetched')
  assert.equal(loader.calls(), 1)
  assert.deepEqual(
    { prefetches: cache.stats.prefetches, joins: cache.stats.joins, hits: cache.stats.hits, misses: cache.stats.misses },
    { prefetches: 1, joins: 1, hits: 1, misses: 0 }
  )
})

test('block cache: a failed prefetch is retried by the reader that joined it; a failed read is not cached', { timeout: 5000 }, async () => {
  const cache = new BlockCache({ cacheBytesMax: 1 << 20 })
  const failing = controlledLoader(block(0, 1, 1))
  const prefetch = cache.prefetch('seg', 0, failing.load)
  assert.ok(prefetch !== null)
  const read = cache.get('seg', 0, async () => block(0, 1, 1))
  failing.fail(new Error('s3: get seg: connection refused'))
  await assert.rejects(prefetch, /connection refused/)
  assert.equal((await read).length, 1)
  assert.ok(cache.has('seg', 0))

  await assert.rejects(
    cache.get('seg', 9, async () => {
      throw new Error('boom')
    }),
    /boom/
  )
  assert.ok(!cache.has('seg', 9))
  assert.equal((await cache.get('seg', 9, async () => block(0, 1, 1))).length, 1, 'the next read loads again')
})

test('block cache: a block larger than the whole bound is returned but not kept', { timeout: 5000 }, async () => {
  const cache = new BlockCache({ cacheBytesMax: 100 })
  const records = await cache.get('seg', 0, async () => block(0, 3, 1000))
  assert.equal(records.length, 3)
  assert.equal(cache.stats.bytes, 0)
  assert.equal(cache.stats.oversize, 1)
  assert.ok(!cache.has('seg', 0))
})
