import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '../storage/sqlite-store.ts'
import { silentLogger } from '../logger.ts'
import { Broker } from '../model/broker.ts'
import { Message, type MessageProperties } from '../model/message.ts'
import { ManualClock } from '../manual-clock.ts'
import type { Vhost } from '../model/vhost.ts'
import type { QueueConsumer } from '../model/queue.ts'
import type { QueueEntry } from '../model/queue-entry.ts'
import { SqliteDurableStore, type PropertiesCodec } from '../model/sqlite/sqlite-durable-store.ts'
import { BrokerError } from '../errors.ts'
import { SqliteStreamStore, streamReadDefaults } from './sqlite-stream-store.ts'
import { StreamQueue } from './stream-queue.ts'
import type { ColdReads, StreamSegment } from './tiered-stream-store.ts'
import type { StreamRecord } from './stream-record.ts'
import type { SegmentIndex } from '../tiering/segment-index.ts'

const jsonCodec: PropertiesCodec = {
  encode: p => Buffer.from(JSON.stringify(p)),
  decode: b => JSON.parse(b.toString()) as MessageProperties
}
const owner = {}
/** Bytes of a record of body 'r' + 7 digits, routing key 's', exchange '', properties {}: 8 + 1 + 0 + 2. */
const RECORD_BYTES = 11

interface Node {
  broker: Broker
  vhost: Vhost
  store: SqliteStore
  streams: SqliteStreamStore
  close(): void
}

function open(dir: string, clock: ManualClock, segmentBytes = 1 << 20, segmentAgeSeconds = 3600): Node {
  const store = SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 1000 })
  const durable = new SqliteDurableStore(store, jsonCodec, () => clock.nowMs(), silentLogger)
  const streams = new SqliteStreamStore(store, jsonCodec, {
    segmentBytes,
    segmentAgeSeconds,
    ...streamReadDefaults,
    readPageRecords: 4,
    maintenanceIntervalMs: 0,
    clock,
    logger: silentLogger
  })
  const broker = new Broker({ vhosts: ['/'], store: durable, clock, streams })
  return {
    broker,
    vhost: broker.vhost('/') as Vhost,
    store,
    streams,
    close: () => {
      broker.close()
      store.close()
    }
  }
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-streams-'))
  try {
    await fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function declareStream(v: Vhost, name = 's', args: Record<string, unknown> = {}): Promise<StreamQueue> {
  const q = await v.declareQueue({ name, durable: true, exclusive: false, autoDelete: false, arguments: { 'x-queue-type': 'stream', ...args } }, owner, false)
  assert.ok(q instanceof StreamQueue)
  return q
}

const record = (i: number): Message => new Message('', 's', {}, Buffer.from(`r${String(i).padStart(7, '0')}`), 0, null)

/** Publishes records from..to-1 and waits for their commit (what a publisher confirm waits for). */
async function publish(v: Vhost, from: number, to: number): Promise<void> {
  const writes: Array<Promise<void> | undefined> = []
  for (let i = from; i < to; i++) writes.push(v.publish('', record(i)).stored)
  assert.ok(
    writes.every(w => w !== undefined),
    'a stream append is always stored'
  )
  await Promise.all(writes)
}

/** A consumer with a credit window that acks by hand. */
class Reader implements QueueConsumer {
  readonly noAck = false
  readonly exclusive = false
  readonly got: QueueEntry[] = []
  private unacked = 0
  private waiters: Array<{ n: number; resolve: () => void }> = []
  constructor(
    readonly tag: string,
    private readonly prefetch: number
  ) {}
  hasCredit(): boolean {
    return this.unacked < this.prefetch
  }
  deliver(entry: QueueEntry): void {
    this.unacked++
    this.got.push(entry)
    for (const w of [...this.waiters])
      if (this.got.length >= w.n) {
        this.waiters.splice(this.waiters.indexOf(w), 1)
        w.resolve()
      }
  }

  cancelled = false
  cancelledByQueue(): void {
    this.cancelled = true
  }
  ackAll(): void {
    for (const e of this.got)
      if (e.state === 'unacked') {
        e.queue.settle(e, 'acked')
        this.unacked--
      }
    this.got[0]?.queue.dispatch()
  }

  offsets(): number[] {
    return this.got.map(e => e.seq)
  }
  bodies(): string[] {
    return this.got.map(e => e.message.body.toString())
  }
  async waitFor(n: number): Promise<void> {
    if (this.got.length >= n) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.tag}: expected ${n} deliveries, got ${this.got.length}`)), 5000)
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        }
      })
    })
  }
}

function attach(v: Vhost, offset: unknown, prefetch = 1000, tag = 'c'): Reader {
  const r = new Reader(tag, prefetch)
  const q = v.consume('s', r, owner, offset === undefined ? {} : { 'x-stream-offset': offset })
  q.dispatch()
  return r
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)
const rows = (store: SqliteStore, sql: string): Array<Record<string, unknown>> => store.db.prepare(sql).all() as Array<Record<string, unknown>>

test('appends get contiguous offsets from 0; consumers read from first, an offset, last, next and a timestamp', async () => {
  await withDir(async dir => {
    const clock = new ManualClock()
    const node = open(dir, clock)
    try {
      const v = node.vhost
      const q = await declareStream(v)
      await publish(v, 0, 5)
      clock.advance(10_000)
      const secondBatchMs = clock.nowMs()
      await publish(v, 5, 10)
      assert.equal(q.messageCount, 10)
      const first = attach(v, 'first', 1000, 'first')
      await first.waitFor(10)
      assert.deepEqual(first.offsets(), range(0, 10))
      assert.equal(first.got[3]?.message.body.toString(), 'r0000003')
      assert.deepEqual(first.got[3]?.message.properties.headers?.['x-stream-offset'], { '!': 'long', value: 3 })
      const fromSeven = attach(v, 7, 1000, 'seven')
      await fromSeven.waitFor(3)
      assert.deepEqual(fromSeven.offsets(), [7, 8, 9])
      const last = attach(v, 'last', 1000, 'last')
      await last.waitFor(1)
      assert.deepEqual(last.offsets(), [9])
      const stamp = attach(v, { '!': 'timestamp', value: Math.floor(secondBatchMs / 1000) }, 1000, 'stamp')
      await stamp.waitFor(5)
      assert.deepEqual(stamp.offsets(), range(5, 10))
      const next = attach(v, 'next', 1000, 'next')
      const defaulted = attach(v, undefined, 1000, 'default')
      await publish(v, 10, 12)
      await next.waitFor(2)
      await defaulted.waitFor(2)
      assert.deepEqual(next.offsets(), [10, 11])
      assert.deepEqual(defaulted.offsets(), [10, 11])
      await first.waitFor(12)
      assert.deepEqual(first.offsets(), range(0, 12), 'a consumer at the end reads on when new records commit')
    } finally {
      node.close()
    }
  })
})

test('acks only give credit back: the prefetch bounds unacked deliveries and nothing is removed', async () => {
  await withDir(async dir => {
    const clock = new ManualClock()
    const node = open(dir, clock)
    try {
      const v = node.vhost
      const q = await declareStream(v)
      await publish(v, 0, 10)
      const r = attach(v, 'first', 3)
      await r.waitFor(3)
      await new Promise(resolve => setImmediate(resolve))
      assert.equal(r.got.length, 3, 'no more than the prefetch before an ack')
      r.ackAll()
      await r.waitFor(6)
      assert.deepEqual(r.offsets(), range(0, 6))
      r.ackAll()
      r.ackAll()
      r.ackAll()
      await r.waitFor(10)
      r.ackAll()
      assert.equal(q.messageCount, 10, 'acks remove nothing')
      const again = attach(v, 'first', 100, 'again')
      await again.waitFor(10)
      assert.deepEqual(again.offsets(), range(0, 10))
      assert.throws(
        () => v.get('s', false, owner),
        (e: unknown) => e instanceof BrokerError && e.kind === 'not-implemented'
      )
      assert.throws(
        () => v.consume('s', Object.assign(new Reader('noack', 1), { noAck: true }), owner),
        (e: unknown) => e instanceof BrokerError && e.kind === 'not-implemented' && /automatic acknowledgement/.test(e.message)
      )
    } finally {
      node.close()
    }
  })
})

test('invalid declarations and offsets are precondition-failed', async () => {
  await withDir(async dir => {
    const node = open(dir, new ManualClock())
    try {
      const v = node.vhost
      const declare = (extra: Partial<{ durable: boolean; exclusive: boolean; autoDelete: boolean }>, args: Record<string, unknown> = {}): Promise<unknown> =>
        v.declareQueue(
          { name: 'bad', durable: true, exclusive: false, autoDelete: false, ...extra, arguments: { 'x-queue-type': 'stream', ...args } },
          owner,
          false
        )
      const refused =
        (pattern: RegExp) =>
        (e: unknown): boolean =>
          e instanceof BrokerError && e.kind === 'precondition-failed' && pattern.test(e.message)
      await assert.rejects(declare({ durable: false }), refused(/invalid property 'non-durable'/))
      await assert.rejects(declare({ exclusive: true }), refused(/invalid property 'exclusive'/))
      await assert.rejects(declare({ autoDelete: true }), refused(/invalid property 'auto-delete'/))
      await assert.rejects(
        declare({}, { 'x-max-priority': 5 }),
        refused(/invalid arg 'x-max-priority' for queue 'bad' in vhost '\/' of queue type rabbit_stream_queue$/)
      )
      await assert.rejects(declare({}, { 'x-message-ttl': 5 }), refused(/invalid arg 'x-message-ttl'/))
      await assert.rejects(declare({}, { 'x-max-age': '7days' }), refused(/invalid arg 'x-max-age'/))
      await assert.rejects(declare({}, { 'x-max-length-bytes': -1 }), refused(/invalid arg 'x-max-length-bytes'/))
      await assert.rejects(declare({}, { 'x-queue-type': 'lazy' }), refused(/invalid arg 'x-queue-type'/))
      assert.equal(v.queues.has('bad'), false)
      await declareStream(v, 's', { 'x-max-age': '7D', 'x-max-length-bytes': 1000 })
      for (const bad of ['middle', -1, 1.5, true, '0h']) {
        assert.throws(() => v.consume('s', new Reader('x', 1), owner, { 'x-stream-offset': bad }), refused(/invalid x-stream-offset/))
      }
      assert.equal(v.queue('s', owner).consumerCount, 0)
    } finally {
      node.close()
    }
  })
})

test('segments are sealed at segmentBytes and at segmentAge (manual clock); sealedLocal lists them oldest first', async () => {
  await withDir(async dir => {
    const clock = new ManualClock()
    const node = open(dir, clock, 4 * RECORD_BYTES, 60)
    try {
      const v = node.vhost
      const q = await declareStream(v)
      await publish(v, 0, 10)
      await new Promise(resolve => setImmediate(resolve))
      const sealed = node.streams.sealedLocal()
      assert.deepEqual(
        sealed.map(s => [s.firstOffset, s.lastOffset, s.records, s.bytes, s.state]),
        [
          [0, 3, 4, 4 * RECORD_BYTES, 'sealed'],
          [4, 7, 4, 4 * RECORD_BYTES, 'sealed']
        ]
      )
      assert.equal(sealed[0]?.stream, 's')
      assert.equal(sealed[0]?.vhost, '/')
      assert.equal(sealed[0]?.streamId, q.storeId)
      assert.equal(node.streams.sealDue(clock.nowMs()), 0, 'the open segment (8, 9) is not old yet')
      clock.advance(60_000)
      assert.equal(node.streams.sealDue(clock.nowMs()), 1)
      await publish(v, 10, 11)
      await new Promise(resolve => setImmediate(resolve))
      assert.deepEqual(
        node.streams.sealedLocal().map(s => [s.firstOffset, s.lastOffset]),
        [
          [0, 3],
          [4, 7],
          [8, 9]
        ]
      )
      assert.deepEqual(rows(node.store, `SELECT first_offset, state FROM stream_segments WHERE state = 'open'`), [{ first_offset: 10, state: 'open' }])
      assert.equal(node.streams.localBytes(), 11 * RECORD_BYTES)
      assert.deepEqual(
        node.streams.readLocal(q.storeId as number, 4, 7).map(r => r.offset),
        [4, 5, 6, 7]
      )
    } finally {
      node.close()
    }
  })
})

test('a restart restores offsets, segments and the open segment', async () => {
  await withDir(async dir => {
    const clock = new ManualClock()
    let node = open(dir, clock, 4 * RECORD_BYTES)
    await declareStream(node.vhost)
    await publish(node.vhost, 0, 6)
    node.close()
    node = open(dir, clock, 4 * RECORD_BYTES)
    try {
      const q = node.vhost.queue('s', owner)
      assert.ok(q instanceof StreamQueue)
      assert.equal(q.messageCount, 6)
      assert.equal(q.log.nextOffset, 6)
      assert.deepEqual(q.log.open, { firstOffset: 4, records: 2, bytes: 2 * RECORD_BYTES, firstTimestampMs: clock.nowMs(), lastTimestampMs: clock.nowMs() })
      await publish(node.vhost, 6, 9)
      await new Promise(resolve => setImmediate(resolve))
      assert.deepEqual(
        node.streams.sealedLocal().map(s => [s.firstOffset, s.lastOffset]),
        [
          [0, 3],
          [4, 7]
        ]
      )
      const r = attach(node.vhost, 'first')
      await r.waitFor(9)
      assert.deepEqual(r.offsets(), range(0, 9))
      assert.deepEqual(r.bodies().slice(5, 7), ['r0000005', 'r0000006'])
    } finally {
      node.close()
    }
  })
})

test('retention by x-max-length-bytes and by x-max-age drops whole sealed segments, never the open one; consumers move up', async () => {
  await withDir(async dir => {
    const clock = new ManualClock()
    const node = open(dir, clock, 4 * RECORD_BYTES)
    try {
      const v = node.vhost
      const q = await declareStream(v, 's', { 'x-max-length-bytes': 6 * RECORD_BYTES, 'x-max-age': '10s' })
      await publish(v, 0, 10) // segments 0..3, 4..7 sealed; 8, 9 open
      const slow = attach(v, 'first', 1, 'slow')
      await slow.waitFor(1)
      assert.deepEqual(node.streams.applyRetention(clock.nowMs()), [], 'nothing offloaded to return')
      await new Promise(resolve => setImmediate(resolve))
      assert.equal(q.log.firstRetained, 4, '10 records of 11 bytes over 66: the oldest segment goes, 6 records stay')
      assert.deepEqual(rows(node.store, 'SELECT min(stream_offset) AS first, count(*) AS n FROM stream_records'), [{ first: 4, n: 6 }])
      assert.equal(q.messageCount, 6)
      slow.ackAll()
      await slow.waitFor(2)
      assert.deepEqual(slow.offsets(), [0, 4], 'a consumer behind the first retained offset continues there')
      clock.advance(11_000)
      node.streams.applyRetention(clock.nowMs())
      await new Promise(resolve => setImmediate(resolve))
      assert.equal(q.log.firstRetained, 8, 'the sealed segment past x-max-age went; the open one stays however old')
      assert.deepEqual(rows(node.store, 'SELECT count(*) AS n FROM stream_records'), [{ n: 2 }])
      const r = attach(v, 'first', 100, 'late')
      await r.waitFor(2)
      assert.deepEqual(r.offsets(), [8, 9])
      await publish(v, 10, 11)
      assert.equal(q.log.nextOffset, 11, 'offsets are never reused')
    } finally {
      node.close()
    }
  })
})

/** The cold tier for this test: sealed segments' records kept in memory as the tiering side would upload them. */
class MemoryColdReads implements ColdReads {
  readonly objects = new Map<string, StreamRecord[]>()
  reads = 0
  read(segment: StreamSegment, fromOffset: number, maxRecords: number): Promise<StreamRecord[]> {
    this.reads++
    const records = this.objects.get(segment.objectKey ?? '') ?? []
    return Promise.resolve(records.filter(r => r.offset >= fromOffset).slice(0, maxRecords))
  }
}

function indexOf(s: StreamSegment): SegmentIndex {
  return {
    header: {
      format: 'wharf-segment',
      version: 1,
      vhost: s.vhost,
      stream: s.stream,
      firstOffset: s.firstOffset,
      lastOffset: s.lastOffset,
      records: s.records,
      createdAtMs: 0
    },
    blocks: [],
    sizeBytes: s.bytes
  }
}

test('markOffloaded / offloaded / forgetOffloaded: idempotent, local rows go, reads cross cold to hot without gap or repeat', async () => {
  await withDir(async dir => {
    const clock = new ManualClock()
    let node = open(dir, clock, 4 * RECORD_BYTES)
    const cold = new MemoryColdReads()
    node.streams.useColdReads(cold)
    const q = await declareStream(node.vhost, 's', { 'x-max-length-bytes': 8 * RECORD_BYTES })
    const id = q.storeId as number
    await publish(node.vhost, 0, 10)
    await new Promise(resolve => setImmediate(resolve))
    const [s0, s1] = node.streams.sealedLocal()
    assert.ok(s0 !== undefined && s1 !== undefined)
    for (const s of [s0, s1]) {
      const key = `p/%2F/s/${s.firstOffset}-${s.lastOffset}.seg`
      cold.objects.set(key, node.streams.readLocal(id, s.firstOffset, s.lastOffset))
      await node.streams.markOffloaded(s, key, indexOf(s))
      await node.streams.markOffloaded(s, key, indexOf(s)) // a retry after a crash between put and commit
    }
    assert.deepEqual(node.streams.sealedLocal(), [])
    assert.deepEqual(node.streams.readLocal(id, 0, 7), [])
    assert.deepEqual(
      node.streams.offloaded(id).map(s => [s.firstOffset, s.lastOffset, s.state, s.objectKey]),
      [
        [0, 3, 'offloaded', 'p/%2F/s/0-3.seg'],
        [4, 7, 'offloaded', 'p/%2F/s/4-7.seg']
      ]
    )
    assert.equal(node.streams.localBytes(), 2 * RECORD_BYTES)
    assert.equal(q.messageCount, 10, 'offloaded records are still in the stream')
    const r = attach(node.vhost, 'first', 3)
    for (let n = 3; n <= 10; n += 3) {
      await r.waitFor(Math.min(n, 10))
      r.ackAll()
    }
    await r.waitFor(10)
    assert.deepEqual(r.offsets(), range(0, 10))
    assert.deepEqual(r.bodies()[5], 'r0000005')
    assert.ok(cold.reads >= 2)
    node.close()

    // After a restart the manifest is read back; retention (8 records of 11 bytes, both tiers) returns the oldest offloaded segment.
    node = open(dir, clock, 4 * RECORD_BYTES)
    node.streams.useColdReads(cold)
    try {
      assert.deepEqual(
        node.streams.offloaded(id).map(s => s.firstOffset),
        [0, 4]
      )
      const due = node.streams.applyRetention(clock.nowMs())
      assert.deepEqual(
        due.map(s => [s.firstOffset, s.objectKey]),
        [[0, 'p/%2F/s/0-3.seg']]
      )
      assert.deepEqual(
        node.streams.applyRetention(clock.nowMs()).map(s => s.firstOffset),
        [0],
        'returned again until forgotten'
      )
      const restored = node.vhost.queue('s', owner) as StreamQueue
      assert.equal(restored.log.firstRetained, 4)
      await node.streams.forgetOffloaded(due[0] as StreamSegment)
      await node.streams.forgetOffloaded(due[0] as StreamSegment)
      assert.deepEqual(node.streams.applyRetention(clock.nowMs()), [])
      assert.deepEqual(rows(node.store, `SELECT first_offset, state FROM stream_segments ORDER BY first_offset`), [
        { first_offset: 4, state: 'offloaded' },
        { first_offset: 8, state: 'open' }
      ])
      const r2 = attach(node.vhost, 0)
      await r2.waitFor(6)
      assert.deepEqual(r2.offsets(), range(4, 10))
    } finally {
      node.close()
    }
  })
})

test('deleting a stream removes its records and manifest; its offloaded objects are returned for deletion', async () => {
  await withDir(async dir => {
    const clock = new ManualClock()
    const node = open(dir, clock, 4 * RECORD_BYTES)
    try {
      const q = await declareStream(node.vhost)
      await publish(node.vhost, 0, 6)
      await new Promise(resolve => setImmediate(resolve))
      const [s0] = node.streams.sealedLocal()
      assert.ok(s0 !== undefined)
      await node.streams.markOffloaded(s0, 'k0', indexOf(s0))
      const c = attach(node.vhost, 'first')
      await c.waitFor(2)
      assert.deepEqual(c.offsets(), [4, 5], 'without cold reads (tiering off) a consumer starts at the local tier')
      assert.equal(await node.vhost.deleteQueue('s', { ifUnused: false, ifEmpty: false }, owner), 6)
      await new Promise(resolve => setImmediate(resolve))
      assert.equal(q.deleted, true)
      assert.deepEqual(rows(node.store, 'SELECT count(*) AS n FROM stream_records'), [{ n: 0 }])
      assert.deepEqual(rows(node.store, 'SELECT count(*) AS n FROM stream_segments'), [{ n: 0 }])
      const due = node.streams.applyRetention(clock.nowMs())
      assert.deepEqual(
        due.map(s => s.objectKey),
        ['k0']
      )
      await node.streams.forgetOffloaded(due[0] as StreamSegment)
      assert.deepEqual(node.streams.applyRetention(clock.nowMs()), [])
      assert.equal(c.cancelled, true)
    } finally {
      node.close()
    }
  })
})

test("a stream declared again under a deleted one's name: its new object under the old key is not deleted as an orphan", async () => {
  await withDir(async dir => {
    const clock = new ManualClock()
    const node = open(dir, clock, 4 * RECORD_BYTES)
    try {
      await declareStream(node.vhost)
      await publish(node.vhost, 0, 6)
      await new Promise(resolve => setImmediate(resolve))
      const [old] = node.streams.sealedLocal()
      assert.ok(old !== undefined)
      await node.streams.markOffloaded(old, 'k0', indexOf(old))
      await node.vhost.deleteQueue('s', { ifUnused: false, ifEmpty: false }, owner)
      await new Promise(resolve => setImmediate(resolve))
      // The store was unreachable: the orphan 'k0' is still due for deletion when 's' comes back.
      await declareStream(node.vhost)
      await publish(node.vhost, 0, 6)
      await new Promise(resolve => setImmediate(resolve))
      const [fresh] = node.streams.sealedLocal()
      assert.ok(fresh !== undefined)
      await node.streams.markOffloaded(fresh, 'k0', indexOf(fresh)) // same name, same offsets: same key, new bytes
      assert.deepEqual(
        node.streams.applyRetention(clock.nowMs()).map(s => s.objectKey),
        [],
        'the replaced orphan is not deleted'
      )
    } finally {
      node.close()
    }
  })
})
