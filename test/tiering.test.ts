// The tiering pipeline end to end: stream records in a real SQLite file, a real S3-compatible server
// (s3rver over HTTP), the TieringManager offloading by age (manual clock) and by size, retention
// deleting objects, cold reads (and a stream consumer) getting the records back, and an S3 outage
// in the middle. Checks run with runOnce(), never by waiting for a timer.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { SqliteStore } from '../core/storage/sqlite-store.ts'
import { SqliteDurableStore, type PropertiesCodec } from '../core/model/sqlite/sqlite-durable-store.ts'
import { SqliteStreamStore, streamReadDefaults } from '../core/streams/sqlite-stream-store.ts'
import { StreamQueue } from '../core/streams/stream-queue.ts'
import type { StreamRecord } from '../core/streams/stream-record.ts'
import type { StreamSegment } from '../core/streams/tiered-stream-store.ts'
import { Broker } from '../core/model/broker.ts'
import { Message, type MessageProperties } from '../core/model/message.ts'
import { ManualClock } from '../core/manual-clock.ts'
import type { Vhost } from '../core/model/vhost.ts'
import type { QueueConsumer } from '../core/model/queue.ts'
import type { QueueEntry } from '../core/model/queue-entry.ts'
import { silentLogger } from '../core/logger.ts'
import { S3ObjectStore } from '../core/tiering/s3-object-store.ts'
import type { ObjectStore } from '../core/tiering/object-store.ts'
import { segmentKey } from '../core/tiering/segment-name.ts'
import { BlockCache } from '../core/tiering/block-cache.ts'
import { ColdReader, nextOffloadedFrom } from '../core/tiering/cold-reader.ts'
import { TieringManager, type TieringManagerOptions } from '../core/tiering/tiering-manager.ts'
import { startS3Server, type S3Server } from './support/s3-server.ts'

const jsonCodec: PropertiesCodec = {
  encode: p => Buffer.from(JSON.stringify(p)),
  decode: b => JSON.parse(b.toString()) as MessageProperties
}
const owner = {}
const KEY_PREFIX = 'streams'
/** Body 100 bytes + routing key 's' + properties '{}': 103 bytes a record; 10 records a segment. */
const SEGMENT_BYTES = 1030

let server: S3Server
let bucketPrefixes = 0

before(async () => {
  server = await startS3Server()
})
after(async () => {
  // s3-server.ts unrefs its child, so nothing holds the event loop open while close() waits for the exit.
  const keepAlive = setInterval(() => {}, 1000)
  try {
    await server.close()
  } finally {
    clearInterval(keepAlive)
  }
})

interface Node {
  readonly clock: ManualClock
  readonly sqlite: SqliteStore
  readonly streams: SqliteStreamStore
  readonly vhost: Vhost
  readonly queue: StreamQueue
  readonly store: S3ObjectStore
  readonly manager: TieringManager
  streamId(): number
  close(): Promise<void>
}

async function openNode(
  tiering: Partial<TieringManagerOptions>,
  streamArgs: Record<string, unknown> = {},
  observe: (store: ObjectStore) => ObjectStore = s => s
): Promise<Node> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wharf-tiering-'))
  const clock = new ManualClock()
  const sqlite = SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 1000 })
  const durable = new SqliteDurableStore(sqlite, jsonCodec, () => clock.nowMs(), silentLogger)
  const streams = new SqliteStreamStore(sqlite, jsonCodec, {
    segmentBytes: SEGMENT_BYTES,
    segmentAgeSeconds: 60,
    ...streamReadDefaults,
    maintenanceIntervalMs: 0,
    clock,
    logger: silentLogger
  })
  const broker = new Broker({ vhosts: ['/'], store: durable, clock, streams })
  const vhost = broker.vhost('/') as Vhost
  const queue = await vhost.declareQueue(
    { name: 's', durable: true, exclusive: false, autoDelete: false, arguments: { 'x-queue-type': 'stream', ...streamArgs } },
    owner,
    false
  )
  assert.ok(queue instanceof StreamQueue)
  // Each test has its own prefix in the bucket, so listings see only its objects.
  const store = new S3ObjectStore({
    bucket: server.bucket,
    prefix: `t${++bucketPrefixes}`,
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: server.credentials,
    maxAttempts: 1,
    connectTimeoutMs: 2000,
    requestTimeoutMs: 10_000
  })
  const manager = new TieringManager({
    streams,
    store: observe(store),
    clock,
    keyPrefix: KEY_PREFIX,
    localAgeSeconds: 300,
    localBytesMax: 1 << 30,
    checkIntervalMs: 1000,
    blockBytesTarget: 400,
    uploadRetryInitialMs: 1000,
    uploadRetryMaxMs: 8000,
    random: () => 0.5,
    // Seals are queued writes: a no-op write after them resolves once they committed, so this
    // check already sees the segments it sealed.
    sealDue: async nowMs => {
      streams.sealDue(nowMs)
      await sqlite.write(() => {})
    },
    applyRetention: nowMs => streams.applyRetention(nowMs),
    ...tiering
  })
  return {
    clock,
    sqlite,
    streams,
    vhost,
    queue,
    store,
    manager,
    streamId: () => queue.storeId as number,
    async close() {
      await manager.stop()
      await store.close()
      broker.close()
      sqlite.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

const body = (i: number): Buffer => Buffer.from(`r${String(i).padStart(7, '0')}`.padEnd(100, '.'))

/** Publishes records from..to-1 and waits for their commit (what a publisher confirm waits for). */
async function publish(v: Vhost, from: number, to: number): Promise<void> {
  const writes: Array<Promise<void> | undefined> = []
  for (let i = from; i < to; i++) writes.push(v.publish('', new Message('', 's', {}, body(i), 0, null)).stored)
  await Promise.all(writes)
  await new Promise(resolve => setImmediate(resolve)) // seals by size are queued behind the appends
}

function expectedKeys(segments: readonly StreamSegment[]): string[] {
  return segments.map(s => segmentKey(KEY_PREFIX, s.vhost, s.stream, s.firstOffset, s.lastOffset))
}

async function listKeys(node: Node): Promise<string[]> {
  return (await node.store.list(`${KEY_PREFIX}/`)).map(o => o.key)
}

/** Every record of the offloaded segments, read back through a ColdReader in small batches. */
async function readCold(node: Node, segments: readonly StreamSegment[]): Promise<StreamRecord[]> {
  const reader = new ColdReader({
    store: node.store,
    cache: new BlockCache({ cacheBytesMax: 1 << 20 }),
    prefetchWatermark: 0.5,
    next: nextOffloadedFrom(node.streams)
  })
  const out: StreamRecord[] = []
  for (const s of segments) {
    for (let offset = s.firstOffset; offset <= s.lastOffset; ) {
      const got = await reader.read(s, offset, 3)
      assert.ok(got.length > 0)
      out.push(...got)
      offset += got.length
    }
  }
  return out
}

/** The store's methods bound to it, for a wrapper that replaces one of them. */
function objectStoreMethods(store: ObjectStore): ObjectStore {
  return {
    description: store.description,
    stats: store.stats,
    put: async (key, bytes) => {
      await store.put(key, bytes)
    },
    get: async (key, range) => await store.get(key, range),
    head: async key => await store.head(key),
    list: async prefix => await store.list(prefix),
    delete: async key => {
      await store.delete(key)
    },
    close: async () => {
      await store.close()
    }
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

test('offload by age: nothing before localAgeSeconds; then every sealed segment is in the bucket, local rows gone, cold reads equal', {
  timeout: 60_000
}, async () => {
  const node = await openNode({})
  try {
    await publish(node.vhost, 0, 45) // four sealed segments of 10, five records open
    const id = node.streamId()
    const original = node.streams.readLocal(id, 0, 44)
    assert.equal(original.length, 45)

    await node.manager.runOnce()
    assert.equal(node.manager.status().uploadedSegments, 0, 'younger than localAgeSeconds: stays local')
    assert.equal(node.manager.status().backlogSegments, 0)
    assert.deepEqual(await listKeys(node), [])

    node.clock.advance(300_000)
    assert.equal(node.manager.status().backlogSegments, 4, 'the four sealed segments are due')
    await node.manager.runOnce() // also seals the open segment (60 s old), due as well

    const offloaded = node.streams.offloaded(id)
    assert.deepEqual(
      offloaded.map(s => [s.firstOffset, s.lastOffset]),
      [
        [0, 9],
        [10, 19],
        [20, 29],
        [30, 39],
        [40, 44]
      ]
    )
    assert.deepEqual(await listKeys(node), expectedKeys(offloaded), 'one object per segment, under the documented key')
    assert.deepEqual(node.streams.readLocal(id, 0, 44), [], 'local rows are gone')
    assert.equal(node.streams.localBytes(), 0)
    assert.deepEqual(node.streams.sealedLocal(), [])

    const s = node.manager.status()
    assert.equal(s.uploadedSegments, 5)
    assert.equal(s.backlogSegments, 0)
    assert.equal(s.uploadFailures, 0)
    assert.equal(s.lastError, null)
    const listed = await node.store.list(`${KEY_PREFIX}/`)
    assert.equal(
      s.uploadedBytes,
      listed.reduce((n, o) => n + o.sizeBytes, 0)
    )
    assert.equal(s.storedObjectBytes, s.uploadedBytes)

    assert.deepEqual(await readCold(node, offloaded), original, 'the same records, in order')

    // A stream consumer from "first" now reads the cold tier, then the hot one.
    node.streams.useColdReads(
      new ColdReader({ store: node.store, cache: new BlockCache({ cacheBytesMax: 1 << 20 }), prefetchWatermark: 0.5, next: nextOffloadedFrom(node.streams) })
    )
    await publish(node.vhost, 45, 50)
    const reader = new Reader()
    node.vhost.consume('s', reader, owner, { 'x-stream-offset': 'first' }).dispatch()
    await reader.waitFor(50)
    assert.deepEqual(
      reader.got.map(e => e.seq),
      range(0, 50)
    )
    assert.deepEqual(
      reader.got.map(e => e.message.body),
      range(0, 50).map(body)
    )
  } finally {
    await node.close()
  }
})

test('offload by size: oldest sealed segments go until the local stream bytes are within localBytesMax', { timeout: 60_000 }, async () => {
  const localBytesMax = 3 * SEGMENT_BYTES + 500
  const node = await openNode({ localAgeSeconds: 1_000_000, localBytesMax })
  try {
    await publish(node.vhost, 0, 100) // ten sealed segments
    const id = node.streamId()
    const original = node.streams.readLocal(id, 0, 99)
    assert.equal(node.streams.localBytes(), 100 * 103)
    assert.equal(node.manager.status().backlogSegments, 7)

    await node.manager.runOnce()
    assert.ok(node.streams.localBytes() <= localBytesMax, `local bytes ${node.streams.localBytes()} within ${localBytesMax}`)
    const offloaded = node.streams.offloaded(id)
    assert.deepEqual(
      offloaded.map(s => s.firstOffset),
      [0, 10, 20, 30, 40, 50, 60],
      'oldest first'
    )
    assert.deepEqual(
      node.streams.sealedLocal().map(s => s.firstOffset),
      [70, 80, 90],
      'the newest stay local'
    )
    assert.deepEqual(await listKeys(node), expectedKeys(offloaded))
    assert.deepEqual(node.streams.readLocal(id, 0, 69), [])
    assert.equal(node.streams.readLocal(id, 70, 99).length, 30)
    assert.deepEqual(await readCold(node, offloaded), original.slice(0, 70))
    assert.equal(node.manager.status().backlogSegments, 0)

    await node.manager.runOnce()
    assert.equal(node.manager.status().uploadedSegments, 7, 'a second check finds nothing more to do')
  } finally {
    await node.close()
  }
})

test('an upload whose object is stored but not yet counted is still in the backlog (no backlog: every object counted)', { timeout: 60_000 }, async () => {
  let manager: TieringManager | null = null
  const seen: Array<{ backlog: number; uploaded: number }> = []
  // Looks at status() after the put, while the manifest row is written (in memory already, not yet
  // committed): the window a poll of /api/tiering hit under CPU load (tiering-e2e "each upload is
  // one object"). The look is queued before the store's commit, which is queued after this returns.
  const lookAfterPut = (store: ObjectStore): ObjectStore => ({
    ...objectStoreMethods(store),
    put: async (key, bytes) => {
      await store.put(key, bytes)
      setImmediate(() => {
        const s = (manager as TieringManager).status()
        seen.push({ backlog: s.backlogSegments, uploaded: s.uploadedSegments })
      })
    }
  })
  const node = await openNode({ localAgeSeconds: 1_000_000, localBytesMax: 3 * SEGMENT_BYTES + 500 }, {}, lookAfterPut)
  manager = node.manager
  try {
    await publish(node.vhost, 0, 100)
    await node.manager.runOnce()
    assert.equal(seen.length, 7)
    for (const s of seen)
      assert.equal(s.uploaded + s.backlog, 7, `uploaded ${s.uploaded} + backlog ${s.backlog}: an object in the store is counted or in the backlog`)
    assert.equal((await listKeys(node)).length, node.manager.status().uploadedSegments)
  } finally {
    await node.close()
  }
})

test('S3 down mid-run: nothing lost, the backlog and the error are visible, uploads wait by backoff and resume after the restart', {
  timeout: 60_000
}, async () => {
  const node = await openNode({ localAgeSeconds: 60 })
  try {
    await publish(node.vhost, 0, 20)
    node.clock.advance(60_000)
    await node.manager.runOnce()
    const id = node.streamId()
    assert.equal(node.streams.offloaded(id).length, 2, 'before the outage: uploaded')

    await publish(node.vhost, 20, 50)
    const original = node.streams.readLocal(id, 20, 49)
    node.clock.advance(60_000)
    await server.stop()
    try {
      await node.manager.runOnce()
      const down = node.manager.status()
      assert.equal(node.streams.offloaded(id).length, 2, 'nothing marked offloaded while the store is down')
      assert.deepEqual(node.streams.readLocal(id, 20, 49), original, 'every record still local')
      assert.equal(down.backlogSegments, 3)
      assert.equal(down.backlogBytes, 30 * 103)
      assert.equal(down.uploadFailures, 1, 'the first failure ends the round')
      assert.match(down.lastError ?? '', new RegExp(`^tiering: put ${KEY_PREFIX}/%2F/s/0000000000000014-000000000000001d\\.seg: `))
      assert.equal(down.lastErrorAtMs, node.clock.nowMs())
      assert.equal(down.nextRetryAtMs, node.clock.nowMs() + 500, 'backoff: random 0.5 of uploadRetryInitialMs')

      const putsBefore = node.store.stats.puts
      await node.manager.runOnce()
      assert.equal(node.store.stats.puts, putsBefore, 'no attempt before the backoff ends')
      node.clock.advance(500)
      await node.manager.runOnce()
      assert.equal(node.store.stats.puts, putsBefore + 1, 'one attempt after it')
      assert.equal(node.manager.status().uploadFailures, 2)
      assert.equal(node.manager.status().nextRetryAtMs, node.clock.nowMs() + 1000, 'the ceiling doubled')
    } finally {
      await server.restart()
    }
    node.clock.advance(8000)
    await node.manager.runOnce()
    const up = node.manager.status()
    assert.equal(up.backlogSegments, 0)
    assert.equal(up.nextRetryAtMs, null)
    assert.equal(up.uploadedSegments, 5)
    const offloaded = node.streams.offloaded(id)
    assert.deepEqual(
      offloaded.map(s => s.firstOffset),
      [0, 10, 20, 30, 40]
    )
    assert.deepEqual(await listKeys(node), expectedKeys(offloaded))
    assert.deepEqual(node.streams.readLocal(id, 0, 49), [])
    assert.deepEqual(await readCold(node, offloaded.slice(2)), original)
  } finally {
    await node.close()
  }
})

test('retention deletes the objects of dropped segments, then forgets them; a failed delete is retried', { timeout: 60_000 }, async () => {
  const node = await openNode({ localAgeSeconds: 60 }, { 'x-max-length-bytes': 25 * 103 })
  try {
    await publish(node.vhost, 0, 30)
    node.clock.advance(60_000)
    await node.manager.runOnce() // three segments offloaded, then retention (25 records' bytes) drops segment 0
    const id = node.streamId()
    const keysAfterFirst = await listKeys(node)
    const storedAfterFirst = node.manager.status().storedObjectBytes ?? 0

    // What retention drops was offloaded; its object is deleted, then the manifest row.
    assert.deepEqual(
      node.streams.offloaded(id).map(s => s.firstOffset),
      [10, 20]
    )
    assert.deepEqual(keysAfterFirst, expectedKeys(node.streams.offloaded(id)), 'the object of segment 0 is gone')
    assert.equal(node.manager.status().deletedSegments, 1)
    assert.ok(storedAfterFirst > 0)

    await publish(node.vhost, 30, 40)
    node.clock.advance(60_000)
    await server.stop()
    try {
      await node.manager.runOnce()
      assert.equal(node.manager.status().uploadFailures, 1)
      assert.equal(node.manager.status().deletedSegments, 1, 'store down: segment 10, retired now, is not deleted yet')
      assert.deepEqual(
        node.streams.applyRetention(node.clock.nowMs()).map(s => s.firstOffset),
        [10],
        'and stays retired until its object is gone'
      )
    } finally {
      await server.restart()
    }
    node.clock.advance(8000)
    await node.manager.runOnce()
    const offloaded = node.streams.offloaded(id)
    assert.deepEqual(
      offloaded.map(s => s.firstOffset),
      [20, 30],
      'segment 10 retired once 30..39 arrived'
    )
    assert.deepEqual(await listKeys(node), expectedKeys(offloaded))
    assert.deepEqual(node.streams.applyRetention(node.clock.nowMs()), [], 'forgotten: not returned again')
    const listed = await node.store.list(`${KEY_PREFIX}/`)
    assert.equal(
      node.manager.status().storedObjectBytes,
      listed.reduce((n, o) => n + o.sizeBytes, 0)
    )
  } finally {
    await node.close()
  }
})

test('start() checks on the injected clock; stop() waits for the upload in flight and ends the checks', { timeout: 60_000 }, async () => {
  let manager: TieringManager | null = null
  let stopping: Promise<void> | null = null
  let putStarted: () => void = () => {}
  const firstPut = new Promise<void>(resolve => {
    putStarted = resolve
  })
  // The real S3 store, with stop() called the moment the first upload has started.
  const stopAtFirstPut = (store: ObjectStore): ObjectStore => ({
    ...objectStoreMethods(store),
    put: async (key, bytes) => {
      if (stopping === null && manager !== null) {
        stopping = manager.stop()
        putStarted()
      }
      await store.put(key, bytes)
    }
  })
  const node = await openNode({ localAgeSeconds: 60 }, {}, stopAtFirstPut)
  manager = node.manager
  try {
    await publish(node.vhost, 0, 30)
    node.clock.advance(60_000)
    node.manager.start()
    node.clock.advance(0) // the first check is due right away
    await firstPut
    await stopping
    assert.equal(node.manager.status().uploadedSegments, 1, 'the upload in flight finished before stop() resolved; no other started')
    assert.equal(node.streams.offloaded(node.streamId()).length, 1, 'and it was recorded')
    assert.equal(node.clock.pendingCount, 0, 'no check scheduled after stop')

    node.manager.start()
    node.clock.advance(0)
    await node.manager.runOnce()
    await node.manager.stop()
    assert.equal(node.streams.offloaded(node.streamId()).length, 3, 'started again, the rest went')
    assert.equal(node.clock.pendingCount, 0)
  } finally {
    await node.close()
  }
})

/** A stream consumer with a large credit window that acks nothing. */
class Reader implements QueueConsumer {
  readonly noAck = false
  readonly exclusive = false
  readonly tag = 'reader'
  readonly got: QueueEntry[] = []
  private waiter: { n: number; resolve: () => void } | null = null
  hasCredit(): boolean {
    return this.got.length < 1000
  }
  deliver(entry: QueueEntry): void {
    this.got.push(entry)
    if (this.waiter !== null && this.got.length >= this.waiter.n) this.waiter.resolve()
  }

  cancelledByQueue(): void {}
  async waitFor(n: number): Promise<void> {
    if (this.got.length >= n) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reader: expected ${n} deliveries, got ${this.got.length}`)), 10_000)
      this.waiter = {
        n,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        }
      }
    })
  }
}
