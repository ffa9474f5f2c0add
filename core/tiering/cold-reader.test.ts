// Cold reads against the two real object stores: a directory and S3 (a real s3rver over HTTP).
// GETs are counted with store.stats.gets; prefetch is awaited with cache.settled(), never a sleep.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { DirectoryObjectStore } from './directory-object-store.ts'
import { S3ObjectStore } from './s3-object-store.ts'
import { isObjectNotFound, type ObjectStore } from './object-store.ts'
import { encodeSegment } from './segment-format.ts'
import { segmentKey } from './segment-name.ts'
import { BlockCache } from './block-cache.ts'
import { ColdReader } from './cold-reader.ts'
import { decodedRecordsBytes } from './decoded-size.ts'
import type { StreamRecord } from '../streams/stream-record.ts'
import type { StreamSegment } from '../streams/tiered-stream-store.ts'
import { startS3Server, type S3Server } from '../../test/support/s3-server.ts'

const T0 = 1_700_000_000_000

function records(first: number, count: number): StreamRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    offset: first + i,
    timestampMs: T0 + first + i,
    exchange: 'amq.stream',
    routingKey: `sensor.${(first + i) % 7}`,
    properties: { contentType: 'application/json', headers: { seq: first + i } },
    body: Buffer.from(JSON.stringify({ n: first + i, pad: 'x'.repeat(150) }))
  }))
}

/** Encodes and uploads one segment; returns it as the manifest would describe it. */
async function offloadedSegment(
  store: ObjectStore,
  first: number,
  count: number,
  blockBytesTarget: number
): Promise<{ segment: StreamSegment; recs: StreamRecord[] }> {
  const recs = records(first, count)
  const { bytes, index } = encodeSegment({ vhost: '/', stream: 'replay', createdAtMs: T0 }, recs, { blockBytesTarget })
  const key = segmentKey('streams', '/', 'replay', first, first + count - 1)
  await store.put(key, bytes)
  const last = recs[recs.length - 1] as StreamRecord
  const segment: StreamSegment = {
    streamId: 1,
    vhost: '/',
    stream: 'replay',
    firstOffset: first,
    lastOffset: last.offset,
    records: count,
    bytes: bytes.length,
    firstTimestampMs: T0 + first,
    lastTimestampMs: last.timestampMs,
    state: 'offloaded',
    objectKey: key,
    index
  }
  return { segment, recs }
}

/** The largest batch with which no read starts below the watermark (0.5) and runs past the block's end. */
function safeBatch(segment: StreamSegment): number {
  const blocks = segment.index?.blocks ?? []
  const inner = blocks.slice(0, -1).map(b => b.records)
  return Math.max(1, Math.floor(Math.min(...inner) / 3))
}

/** Reads [segment] from its first offset to its end in batches, awaiting prefetches between reads. */
async function replay(reader: ColdReader, cache: BlockCache, segment: StreamSegment, batch: number, onRead: () => void = () => {}): Promise<StreamRecord[]> {
  const out: StreamRecord[] = []
  let offset = segment.firstOffset
  while (offset <= segment.lastOffset) {
    const got = await reader.read(segment, offset, batch)
    assert.ok(got.length > 0 && got.length <= batch)
    out.push(...got)
    offset += got.length
    await cache.settled()
    onRead()
  }
  return out
}

function coldReaderSuite(name: string, open: () => Promise<{ store: ObjectStore; close: () => Promise<void> }>): void {
  describe(`cold reader on ${name}`, { timeout: 60_000 }, () => {
    let store: ObjectStore
    let close: () => Promise<void> = async () => {}
    before(async () => {
      ;({ store, close } = await open())
    })
    after(async () => {
      await close()
    })

    test('a sequential replay makes one GET per block and every block after the first is a prefetched hit', async () => {
      const { segment, recs } = await offloadedSegment(store, 0, 600, 4096)
      const blocks = segment.index?.blocks.length ?? 0
      assert.ok(blocks >= 10, `the segment has many blocks (${blocks})`)
      const cache = new BlockCache({ cacheBytesMax: 64 << 20 })
      const reader = new ColdReader({ store, cache, prefetchWatermark: 0.5 })
      const getsBefore = store.stats.gets
      const got = await replay(reader, cache, segment, safeBatch(segment))
      assert.deepEqual(got, recs, 'the same records, in order')
      assert.equal(store.stats.gets - getsBefore, blocks, 'one GET per block')
      assert.equal(cache.stats.misses, 1, 'only the first block was waited for')
      assert.equal(cache.stats.prefetches, blocks - 1)
      assert.ok(cache.stats.hits >= blocks - 1)
    })

    test('prefetch crosses into the next offloaded segment through `next`', async () => {
      const a = await offloadedSegment(store, 1000, 200, 4096)
      const b = await offloadedSegment(store, 1200, 200, 4096)
      const cache = new BlockCache({ cacheBytesMax: 64 << 20 })
      const reader = new ColdReader({ store, cache, prefetchWatermark: 0.5, next: s => (s.objectKey === a.segment.objectKey ? b.segment : null) })
      const getsBefore = store.stats.gets
      const got = [...(await replay(reader, cache, a.segment, safeBatch(a.segment)))]
      const missesAtBoundary = cache.stats.misses
      got.push(...(await replay(reader, cache, b.segment, safeBatch(b.segment))))
      assert.deepEqual(got, [...a.recs, ...b.recs])
      const blocks = (a.segment.index?.blocks.length ?? 0) + (b.segment.index?.blocks.length ?? 0)
      assert.equal(store.stats.gets - getsBefore, blocks)
      assert.equal(cache.stats.misses, 1)
      assert.equal(missesAtBoundary, 1, 'the first block of the next segment was prefetched')
    })

    test('the cache stays within a small bound over a long replay', async () => {
      const { segment, recs } = await offloadedSegment(store, 5000, 1500, 4096)
      const blocks = segment.index?.blocks ?? []
      const cacheBytesMax = Math.floor(decodedRecordsBytes(recs.slice(0, blocks[0]?.records ?? 1)) * 2.5)
      const cache = new BlockCache({ cacheBytesMax })
      const reader = new ColdReader({ store, cache, prefetchWatermark: 0.5 })
      const getsBefore = store.stats.gets
      const got = await replay(reader, cache, segment, safeBatch(segment), () => {
        assert.ok(cache.stats.bytes <= cacheBytesMax, `${cache.stats.bytes} <= ${cacheBytesMax}`)
      })
      assert.deepEqual(got, recs)
      assert.ok(cache.stats.maxBytesSeen <= cacheBytesMax)
      assert.ok(cache.stats.evictions >= blocks.length - 3, `evictions ${cache.stats.evictions}`)
      assert.equal(store.stats.gets - getsBefore, blocks.length, 'still one GET per block: the prefetched block outlives the one being read')
    })

    test('concurrent readers of one range share GETs; one read may span blocks', async () => {
      const { segment, recs } = await offloadedSegment(store, 9000, 300, 4096)
      const blocks = segment.index?.blocks.length ?? 0
      const cache = new BlockCache({ cacheBytesMax: 64 << 20 })
      const reader = new ColdReader({ store, cache, prefetchWatermark: 1 })
      const getsBefore = store.stats.gets
      const [x, y] = await Promise.all([reader.read(segment, 9000, 1000), reader.read(segment, 9000, 1000)])
      assert.deepEqual(x, recs)
      assert.deepEqual(y, recs)
      assert.equal(store.stats.gets - getsBefore, blocks)
      const middle = await reader.read(segment, 9150, 10)
      assert.deepEqual(middle, recs.slice(150, 160), 'a read from the middle')
      assert.equal(store.stats.gets - getsBefore, blocks, 'served from the cache')
    })

    test('a removed object reads as not found; a segment still local is refused', async () => {
      const { segment } = await offloadedSegment(store, 20000, 50, 4096)
      await store.delete(segment.objectKey ?? '')
      const reader = new ColdReader({ store, cache: new BlockCache({ cacheBytesMax: 1 << 20 }), prefetchWatermark: 0.5 })
      await assert.rejects(reader.read(segment, 20000, 10), (err: unknown) => isObjectNotFound(err))
      await assert.rejects(reader.read({ ...segment, state: 'sealed', objectKey: null, index: null }, 20000, 10), /not offloaded/)
      await assert.rejects(reader.read(segment, 19999, 10), /outside the segment/)
    })
  })
}

coldReaderSuite('a directory', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-cold-reader-'))
  const store = new DirectoryObjectStore(dir)
  return {
    store,
    close: async () => {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
})

coldReaderSuite('S3 (s3rver)', async () => {
  const server: S3Server = await startS3Server()
  const store = new S3ObjectStore({
    bucket: server.bucket,
    prefix: 'cold-reader',
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: server.credentials
  })
  return {
    store,
    close: async () => {
      await store.close()
      await closeKeepingLoopAlive(server)
    }
  }
})

/** s3-server.ts unrefs its child, so nothing holds the event loop open while close() waits for the exit. */
async function closeKeepingLoopAlive(server: S3Server): Promise<void> {
  const keepAlive = setInterval(() => {}, 1000)
  try {
    await server.close()
  } finally {
    clearInterval(keepAlive)
  }
}
