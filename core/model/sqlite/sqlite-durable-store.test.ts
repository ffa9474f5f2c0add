import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '../../storage/sqlite-store.ts'
import { silentLogger } from '../../logger.ts'
import { Broker } from '../broker.ts'
import { Message } from '../message.ts'
import { ManualClock } from '../../manual-clock.ts'
import type { Vhost } from '../vhost.ts'
import type { Queue, QueueConsumer } from '../queue.ts'
import type { QueueEntry } from '../queue-entry.ts'
import { ClassicQueue } from '../classic-queue.ts'
import { SqliteDurableStore } from './sqlite-durable-store.ts'
import { Taker, committed, count, jsonCodec } from './model-store.test-support.ts'

function readyEntries(q: Queue): QueueEntry[] {
  assert.ok(q instanceof ClassicQueue)
  return [...q.ready.entries()]
}

const owner = {}

function open(dir: string, clock = new ManualClock()): { broker: Broker; vhost: Vhost; store: SqliteStore } {
  const store = SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 1000 })
  const durable = new SqliteDurableStore(store, jsonCodec, () => clock.nowMs(), silentLogger)
  const broker = new Broker({ vhosts: ['/', 'other'], store: durable, clock })
  return { broker, vhost: broker.vhost('/') as Vhost, store }
}

const persistent = (key: string, body: string, exchange = ''): Message =>
  new Message(exchange, key, { deliveryMode: 2, headers: { n: body } }, Buffer.from(body), 1000, null)
const transient = (key: string, body: string): Message => new Message('', key, {}, Buffer.from(body), 1000, null)

/** Consumes; the first deliveries wait for the commit of the queue's delivered watermark (delivered-watermark.ts). */
async function consumeNow(v: Vhost, queue: string, consumer: QueueConsumer, store: SqliteStore): Promise<Queue> {
  const q = v.consume(queue, consumer, owner)
  q.dispatch()
  await committed(store)
  return q
}

test('durable definitions and persistent messages survive a reopen; transient ones do not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-model-'))
  try {
    const first = open(dir)
    const v = first.vhost
    await v.declareExchange(
      { name: 'events', type: 'topic', durable: true, autoDelete: false, internal: false, arguments: { 'alternate-exchange': 'ae' } },
      false
    )
    await v.declareExchange({ name: 'ae', type: 'fanout', durable: true, autoDelete: false, internal: false, arguments: {} }, false)
    await v.declareExchange({ name: 'temp', type: 'fanout', durable: false, autoDelete: false, internal: false, arguments: {} }, false)
    await v.declareQueue(
      { name: 'orders', durable: true, exclusive: false, autoDelete: false, arguments: { 'x-max-length': 100, bytes: Buffer.from([1, 2]) } },
      owner,
      false
    )
    await v.declareQueue({ name: 'audit', durable: true, exclusive: false, autoDelete: false, arguments: {} }, owner, false)
    await v.declareQueue({ name: 'scratch', durable: false, exclusive: false, autoDelete: false, arguments: {} }, owner, false)
    await v.bindQueue('orders', 'events', 'order.#', {}, owner)
    await v.bindQueue('audit', 'events', '#', {}, owner)
    await v.bindQueue('audit', 'temp', '', {}, owner) // transient source: not stored
    await v.bindExchange('events', 'amq.topic', 'x.#', {})

    const results = [
      v.publish('events', persistent('order.new', 'p1', 'events')),
      v.publish('events', persistent('order.new', 'p2', 'events')),
      v.publish('events', transient('order.new', 't1')),
      v.publish('', persistent('scratch', 's1'))
    ]
    assert.deepEqual(
      results.map(r => r.routed),
      [2, 2, 2, 1]
    )
    assert.equal(results[3]?.stored, undefined, 'a transient queue stores nothing')
    await Promise.all(results.map(r => r.stored))
    assert.equal(count(first.store, 'messages'), 2, 'stored once for both queues')
    assert.equal(count(first.store, 'queue_entries'), 4)

    // audit: take two, ack p1, leave p2 unacked (delivered) → redelivered after restart
    const taker = new Taker(2)
    const audit = await consumeNow(v, 'audit', taker, first.store)
    audit.settle((taker.got[0] as { entry: QueueEntry }).entry, 'acked')
    v.cancel(audit, taker)
    first.store.flush()
    first.store.close()

    const second = open(dir)
    const w = second.vhost
    assert.deepEqual(second.broker.restored, { exchanges: 2, queues: 2, bindings: 3, messages: 2, pagedEntries: 0, transientEntriesDropped: 0 })
    assert.equal(w.exchange('events').type.name, 'topic')
    assert.equal(w.exchange('events').alternateExchange, 'ae')
    assert.equal(w.exchanges.has('temp'), false)
    assert.equal(w.queues.has('scratch'), false)
    assert.deepEqual(w.queue('orders', owner).args, { 'x-max-length': 100, bytes: Buffer.from([1, 2]) })
    const orders = readyEntries(w.queue('orders', owner))
    assert.deepEqual(
      orders.map(e => [e.message.body.toString(), e.redelivered, e.message.properties.headers?.n]),
      [
        ['p1', false, 'p1'],
        ['p2', false, 'p2']
      ]
    )
    const audits = readyEntries(w.queue('audit', owner))
    assert.deepEqual(
      audits.map(e => [e.message.body.toString(), e.redelivered]),
      [['p2', true]]
    )
    assert.equal(audits[0]?.message, orders[1]?.message, 'one Message object for one stored message')
    // routing works again, also the exchange-to-exchange binding
    assert.equal(w.publish('amq.topic', persistent('x.y', 'again', 'amq.topic')).routed, 1)

    // delete a queue: its entries and the messages only it referenced go
    await w.deleteQueue('orders', { ifUnused: false, ifEmpty: false }, owner)
    assert.equal(count(second.store, 'queue_definitions'), 1)
    const left = second.store.db.prepare('SELECT payload FROM messages ORDER BY id').pluck().all() as Buffer[]
    assert.deepEqual(
      left.map(b => b.toString()),
      ['p2', 'again']
    )
    assert.equal(count(second.store, 'bindings'), 2, 'audit ← events, events ← amq.topic')
    second.store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an entry acked before its insert committed is never written; acked entries are deleted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-model-'))
  try {
    const { vhost, store } = open(dir)
    await vhost.declareQueue({ name: 'q', durable: true, exclusive: false, autoDelete: false, arguments: {} }, owner, false)
    const taker = new Taker(10)
    const q = await consumeNow(vhost, 'q', taker, store)
    // One delivery first: its watermark reservation covers the next ones, which then go at once.
    await vhost.publish('', persistent('q', 'warm-up')).stored
    await committed(store)
    q.settle((taker.got[0] as { entry: QueueEntry }).entry, 'acked')
    await store.write(() => {})
    const fast = vhost.publish('', persistent('q', 'fast'))
    q.settle((taker.got[1] as { entry: QueueEntry }).entry, 'acked')
    await fast.stored
    assert.equal(count(store, 'messages'), 0)
    const slow = vhost.publish('', persistent('q', 'slow'))
    await slow.stored
    assert.equal(count(store, 'queue_entries'), 1)
    q.settle((taker.got[2] as { entry: QueueEntry }).entry, 'acked')
    await store.write(() => {})
    assert.equal(count(store, 'queue_entries'), 0)
    assert.equal(count(store, 'messages'), 0)
    store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('MQTT session queues and model queues share the tables without seeing each other', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-model-'))
  try {
    const { vhost, store } = open(dir)
    store.db.prepare("INSERT INTO queues (name, created_ms) VALUES ('mqtt-session/dev1', 0)").run()
    await vhost.declareQueue({ name: 'q', durable: true, exclusive: false, autoDelete: false, arguments: {} }, owner, false)
    await vhost.publish('', persistent('q', 'm')).stored
    store.close()
    const again = open(dir)
    assert.deepEqual([...again.vhost.queues.keys()], ['q'])
    assert.deepEqual(again.store.db.prepare('SELECT name FROM queues ORDER BY id').pluck().all(), ['mqtt-session/dev1', 'vhost/%2F/q'])
    again.store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a queue drained before a restart numbers its next entries past its delivered watermark: they are not redelivered after the restart after that', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-model-'))
  try {
    const first = open(dir)
    await first.vhost.declareQueue({ name: 'q', durable: true, exclusive: false, autoDelete: false, arguments: {} }, owner, false)
    await Promise.all([1, 2, 3].map(n => first.vhost.publish('', persistent('q', `a${n}`)).stored))
    const taker = new Taker(3)
    const q = await consumeNow(first.vhost, 'q', taker, first.store)
    for (const { entry } of taker.got) q.settle(entry, 'acked')
    first.store.flush()
    first.store.close()

    const second = open(dir)
    await second.vhost.publish('', persistent('q', 'b1')).stored // published after the restart, never delivered
    second.store.flush()
    second.store.close()

    const third = open(dir)
    assert.deepEqual(
      readyEntries(third.vhost.queue('q', owner)).map(e => [e.message.body.toString(), e.redelivered, e.seq > 3]),
      [['b1', false, true]]
    )
    third.store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('entries acked together go by seq range only when the range holds just them; shared messages keep their other references', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-model-'))
  try {
    const first = open(dir)
    const v = first.vhost
    await v.declareExchange({ name: 'both', type: 'fanout', durable: true, autoDelete: false, internal: false, arguments: {} }, false)
    for (const name of ['q', 'copy']) {
      await v.declareQueue({ name, durable: true, exclusive: false, autoDelete: false, arguments: {} }, owner, false)
      await v.bindQueue(name, 'both', '', {}, owner)
    }
    await Promise.all(Array.from({ length: 12 }, (_, n) => v.publish('both', persistent('', `m${n}`, 'both')).stored))
    await v.publish('', transient('q', 'transient')).stored // a seq in q without a row
    await Promise.all(Array.from({ length: 6 }, (_, n) => v.publish('', persistent('q', `only${n}`)).stored))
    const taker = new Taker(100)
    const q = await consumeNow(v, 'q', taker, first.store)
    const got = taker.got.map(g => g.entry)
    const acked = async (indexes: number[]): Promise<void> => {
      for (const i of indexes) q.settle(got[i] as QueueEntry, 'acked')
      await first.store.write(() => {})
    }
    await acked([0, 1, 2, 3, 4]) // m0..m4: one range
    await acked([5, 6, 8, 9]) // m5, m6, m8, m9 while m7 is still queued between them: one by one
    await acked([12, 13, 14, 15, 16, 17, 18]) // the transient one and only0..only5: a range with a seq that has no row
    assert.equal(count(first.store, 'messages'), 12, 'the 12 shared messages, still in copy')
    first.store.close()

    const second = open(dir)
    const left = (name: string): string[] => readyEntries(second.vhost.queue(name, owner)).map(e => e.message.body.toString())
    assert.deepEqual(left('q'), ['m7', 'm10', 'm11'])
    assert.equal(left('copy').length, 12)
    assert.deepEqual(second.store.db.prepare('SELECT DISTINCT refs FROM messages ORDER BY refs').pluck().all(), [1, 2])
    second.store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an entry is handed out only once a delivered watermark covering it is committed: after a crash it comes back redelivered [MQTT-3.3.1-1]', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-model-'))
  try {
    const first = open(dir)
    await first.vhost.declareQueue({ name: 'q', durable: true, exclusive: false, autoDelete: false, arguments: {} }, owner, false)
    await Promise.all([1, 2, 3, 4].map(n => first.vhost.publish('', persistent('q', `m${n}`)).stored))
    const taker = new Taker(2)
    const q = first.vhost.consume('q', taker, owner)
    q.dispatch()
    assert.equal(taker.got.length, 0, 'nothing leaves before its watermark is committed')
    await committed(first.store)
    assert.deepEqual(
      taker.got.map(g => g.entry.message.body.toString()),
      ['m1', 'm2']
    )
    const stored = first.store.db.prepare('SELECT delivered_seq FROM queues').pluck().get() as number
    assert.ok(stored >= 2, `the stored watermark (${stored}) covers what was handed out`)
    first.store.close() // a crash: no broker.close()

    const second = open(dir)
    assert.deepEqual(
      readyEntries(second.vhost.queue('q', owner)).map(e => [e.message.body.toString(), e.redelivered]),
      [
        ['m1', true],
        ['m2', true],
        // reserved ahead, never sent: a false DUP/redelivered after a crash, which the specs allow
        ['m3', true],
        ['m4', true]
      ]
    )
    second.store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a clean shutdown writes back the real delivered watermark: only what was handed out comes back redelivered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-model-'))
  try {
    const first = open(dir)
    await first.vhost.declareQueue({ name: 'q', durable: true, exclusive: false, autoDelete: false, arguments: {} }, owner, false)
    await Promise.all([1, 2, 3, 4].map(n => first.vhost.publish('', persistent('q', `m${n}`)).stored))
    const taker = new Taker(2)
    await consumeNow(first.vhost, 'q', taker, first.store)
    assert.equal(taker.got.length, 2)
    first.broker.close()
    first.store.close()

    const second = open(dir)
    assert.deepEqual(
      readyEntries(second.vhost.queue('q', owner)).map(e => [e.message.body.toString(), e.redelivered]),
      [
        ['m1', true],
        ['m2', true],
        ['m3', false],
        ['m4', false]
      ]
    )
    // new entries number past every watermark stored before, so none of them is taken for delivered
    await second.vhost.publish('', persistent('q', 'm5')).stored
    second.broker.close()
    second.store.close()
    const third = open(dir)
    assert.deepEqual(
      readyEntries(third.vhost.queue('q', owner)).map(e => [e.message.body.toString(), e.redelivered]),
      [
        ['m1', true],
        ['m2', true],
        ['m3', false],
        ['m4', false],
        ['m5', false]
      ]
    )
    third.store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("a turn's persistent messages go in one write of many rows, never ahead of a write queued between them; commitBatchMax still bounds a commit", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-model-'))
  try {
    const { vhost, store } = open(dir)
    await vhost.declareQueue({ name: 'q1', durable: true, exclusive: false, autoDelete: false, arguments: {} }, owner, false)
    const commitsBefore = store.stats.commits
    // One turn: 70 messages (two full multi-row statements and a rest), a new queue's row, then a
    // message for that queue (its entry needs the queue's row id) and more for q1.
    const writes = Array.from({ length: 70 }, (_, n) => vhost.publish('', persistent('q1', `a${n}`)).stored)
    const declared = vhost.declareQueue({ name: 'q2', durable: true, exclusive: false, autoDelete: false, arguments: {} }, owner, false)
    writes.push(vhost.publish('', persistent('q2', 'for-q2')).stored)
    for (let n = 0; n < 5; n++) writes.push(vhost.publish('', persistent('q1', `b${n}`)).stored)
    await Promise.all([...writes, declared])
    assert.equal(store.stats.commits - commitsBefore, 1, 'one commit for the turn')
    assert.equal(count(store, 'messages'), 76)
    assert.equal(count(store, 'queue_entries'), 76)

    // Acked together, the rows go by range (the messages are q1's alone).
    const taker = new Taker(100)
    const q1 = await consumeNow(vhost, 'q1', taker, store)
    for (const { entry } of taker.got) q1.settle(entry, 'acked')
    await store.write(() => {})
    assert.equal(count(store, 'messages'), 1)
    assert.deepEqual(store.db.prepare('SELECT topic FROM messages').pluck().all(), ['q2'])
    store.close()

    // A small commitBatchMax: the gathered rows count as writes, so one turn commits early.
    const commitWrites: number[] = []
    const small = SqliteStore.open({
      dataDir: dir,
      durability: 'process',
      commitWindowMs: 0,
      commitBatchMax: 10,
      onCommit: (_ms, writes) => commitWrites.push(writes)
    })
    const durable = new SqliteDurableStore(small, jsonCodec, () => 0, silentLogger)
    const broker = new Broker({ vhosts: ['/'], store: durable, clock: new ManualClock() })
    const v = broker.vhost('/') as Vhost
    assert.deepEqual(
      readyEntries(v.queue('q2', owner)).map(e => e.message.body.toString()),
      ['for-q2']
    )
    const before = small.stats.commits
    const more = Array.from({ length: 25 }, (_, n) => v.publish('', persistent('q1', `c${n}`)).stored)
    assert.equal(small.stats.commits - before, 2, 'two commits of 10 within the turn')
    await Promise.all(more)
    assert.deepEqual(commitWrites, [10, 10, 5], 'the commit metrics count each gathered message')
    small.close()

    const again = open(dir)
    assert.deepEqual(
      readyEntries(again.vhost.queue('q1', owner)).map(e => e.message.body.toString()),
      Array.from({ length: 25 }, (_, n) => `c${n}`)
    )
    again.store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
