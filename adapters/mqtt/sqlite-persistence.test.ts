import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '../../core/storage/sqlite-store.ts'
import type { Readable } from 'node:stream'
import { SqlitePersistence, type InPacket, type SqlitePersistenceOptions } from './sqlite-persistence.ts'

const require = createRequire(import.meta.url)
const abstractSuite = require('aedes-persistence/abstract.js') as (opts: object) => void

const limits: SqlitePersistenceOptions = { maxQueuedMessages: 100_000, maxQueuedBytes: 1 << 30, queueOverflow: 'drop-newest' }

function openStore (dir: string): SqliteStore {
  return SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 1000 })
}

/** One fresh store in a fresh directory per instance; destroy() closes and removes it. */
class TempPersistence extends SqlitePersistence {
  constructor (private readonly ownStore: SqliteStore, private readonly dir: string, opts: SqlitePersistenceOptions) {
    super(ownStore, opts)
  }

  static create (opts: SqlitePersistenceOptions = limits): TempPersistence {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-mqtt-persistence-'))
    return new TempPersistence(openStore(dir), dir, opts)
  }

  override async destroy (): Promise<void> {
    await super.destroy()
    this.ownStore.close()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

abstractSuite({ test, persistence: () => TempPersistence.create(), testAsync: true })

// --- Wharf's own requirements -------------------------------------------------------------------

const broker = (): { id: string, counter: number } => ({ id: 'wharf-test', counter: 0 })
const publish = (payload: string, counter: number, topic = 't/1'): InPacket =>
  ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false, brokerId: 'wharf-test', brokerCounter: counter })

async function drain (stream: Readable): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = []
  for await (const item of stream) out.push(item as Record<string, unknown>)
  return out
}

function count (store: SqliteStore, table: string): number {
  return store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number
}

function withTempDir (fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-mqtt-persistence-'))
    try { await fn(dir) } finally { rmSync(dir, { recursive: true, force: true }) }
  }
}

test('a reopened store gives back subscriptions, queues in order, retained, wills and incoming', withTempDir(async dir => {
  let store = openStore(dir)
  let p = new SqlitePersistence(store, limits)
  await p.setup(broker())
  const client = { id: 'dev-1' }
  await p.addSubscriptions(client, [{ topic: 'a/+', qos: 1 }, { topic: 'b/#', qos: 2 }, { topic: 'q0', qos: 0 }])
  for (let i = 1; i <= 5; i++) await p.outgoingEnqueueCombi([{ clientId: 'dev-1', topic: 'a/+', qos: 1 }], publish(`m${i}`, i, 'a/x'))
  await p.outgoingUpdate(client, { ...publish('m1', 1, 'a/x'), messageId: 7 })
  await p.storeRetained({ cmd: 'publish', topic: 'r/1', payload: Buffer.from('kept'), qos: 1, retain: true })
  await p.putWill(client, { topic: 'dev/1/gone', payload: Buffer.from('bye'), qos: 1, retain: false })
  await p.incomingStorePacket(client, { cmd: 'publish', topic: 'in', payload: Buffer.from('q2'), qos: 2, retain: false, dup: false, messageId: 42 })
  await p.destroy()
  store.close()

  store = openStore(dir)
  p = new SqlitePersistence(store, limits)
  const b = broker()
  await p.setup(b)
  try {
    assert.deepEqual((await p.subscriptionsByClient(client)).map(s => [s.topic, s.qos]), [['a/+', 1], ['b/#', 2], ['q0', 0]])
    assert.deepEqual((await p.subscriptionsByTopic('a/x')).map(s => s.clientId), ['dev-1'])
    assert.deepEqual(await p.countOffline(), { subsCount: 2, clientsCount: 1 })
    const queued = await drain(p.outgoingStream(client))
    assert.deepEqual(queued.map(q => String(q.payload)), ['m1', 'm2', 'm3', 'm4', 'm5'])
    assert.equal(queued[0]?.messageId, 7, 'the QoS 1 packet id assignment was committed before close')
    assert.equal(b.counter, 5, 'the broker counter continues after the stored messages')
    const retained = await drain(p.createRetainedStreamCombi(['r/#']))
    assert.equal(String(retained[0]?.payload), 'kept')
    const will = await p.getWill(client)
    assert.equal(will?.topic, 'dev/1/gone')
    assert.equal(will?.clientId, 'dev-1')
    const incoming = await p.incomingGetPacket(client, { messageId: 42 })
    assert.equal(String(incoming.payload), 'q2')
    assert.deepEqual(p.queueDepth('dev-1'), { messages: 5, bytes: 10 })
  } finally {
    await p.destroy()
    store.close()
  }
}))

test('a message queued for several sessions is stored once and deleted after the last clear', withTempDir(async dir => {
  const store = openStore(dir)
  const p = new SqlitePersistence(store, limits)
  await p.setup(broker())
  try {
    const subs = ['c1', 'c2', 'c3'].map(clientId => ({ clientId, topic: 't/#', qos: 1 }))
    await p.outgoingEnqueueCombi(subs, publish('shared', 1))
    assert.equal(count(store, 'messages'), 1)
    assert.equal(count(store, 'queue_entries'), 3)
    for (const [i, clientId] of ['c1', 'c2', 'c3'].entries()) {
      await p.outgoingUpdate({ id: clientId }, { ...publish('shared', 1), messageId: 100 + i })
      const cleared = await p.outgoingClearMessageId({ id: clientId }, { topic: 't/1', messageId: 100 + i })
      assert.equal(String((cleared as { payload?: unknown } | undefined)?.payload), 'shared')
      assert.equal(count(store, 'messages'), i < 2 ? 1 : 0, `after clear ${i + 1} of 3`)
    }
    assert.equal(count(store, 'queue_entries'), 0)
    assert.equal(p.stats().queuedMessages, 0)
  } finally {
    await p.destroy()
    store.close()
  }
}))

for (const policy of ['drop-oldest', 'drop-newest'] as const) {
  test(`queue limit by count with ${policy} drops and counts`, withTempDir(async dir => {
    const store = openStore(dir)
    const dropped: string[] = []
    const p = new SqlitePersistence(store, { maxQueuedMessages: 3, maxQueuedBytes: 1 << 20, queueOverflow: policy, onOverflow: (id, which) => dropped.push(`${id}:${which}`) })
    await p.setup(broker())
    try {
      const sub = { clientId: 'slow', topic: 't/#', qos: 1 }
      // The first entry is in flight (has a packet id): drop-oldest must skip it.
      await p.outgoingEnqueue(sub, publish('m1', 1))
      await p.outgoingUpdate({ id: 'slow' }, { ...publish('m1', 1), messageId: 1, qos: 2 })
      for (let i = 2; i <= 5; i++) await p.outgoingEnqueue(sub, publish(`m${i}`, i))
      const left = (await drain(p.outgoingStream({ id: 'slow' }))).map(q => String(q.payload))
      assert.deepEqual(left, policy === 'drop-oldest' ? ['m1', 'm4', 'm5'] : ['m1', 'm2', 'm3'])
      assert.deepEqual(dropped, policy === 'drop-oldest' ? ['slow:oldest', 'slow:oldest'] : ['slow:newest', 'slow:newest'])
      assert.equal(p.stats().overflowDropped, 2)
      assert.equal(count(store, 'messages'), 3, 'dropped messages are deleted')
    } finally {
      await p.destroy()
      store.close()
    }
  }))
}

test('queue limit by payload bytes; a message larger than the limit is never queued', withTempDir(async dir => {
  const store = openStore(dir)
  const p = new SqlitePersistence(store, { maxQueuedMessages: 100, maxQueuedBytes: 10, queueOverflow: 'drop-oldest' })
  await p.setup(broker())
  try {
    const sub = { clientId: 'c', topic: 't', qos: 1 }
    await p.outgoingEnqueue(sub, publish('aaaa', 1))
    await p.outgoingEnqueue(sub, publish('bbbb', 2))
    await p.outgoingEnqueue(sub, publish('cccc', 3)) // 12 bytes > 10: drops aaaa
    await p.outgoingEnqueue(sub, publish('x'.repeat(11), 4)) // alone over the limit: dropped, queue kept
    assert.deepEqual((await drain(p.outgoingStream({ id: 'c' }))).map(q => String(q.payload)), ['bbbb', 'cccc'])
    assert.deepEqual(p.queueDepth('c'), { messages: 2, bytes: 8 })
    const s = p.stats()
    assert.equal(s.overflowDroppedOldest, 1)
    assert.equal(s.overflowDroppedNewest, 1)
  } finally {
    await p.destroy()
    store.close()
  }
}))

test('QoS 2 outgoing: pubrel replaces the publish, releases the message and survives restart', withTempDir(async dir => {
  let store = openStore(dir)
  let p = new SqlitePersistence(store, limits)
  await p.setup(broker())
  const client = { id: 'q2' }
  await p.outgoingEnqueue({ clientId: 'q2', topic: 't', qos: 2 }, { ...publish('two', 1), qos: 2 })
  await p.outgoingUpdate(client, { ...publish('two', 1), qos: 2, messageId: 9 })
  await p.outgoingUpdate(client, { cmd: 'pubrel', topic: '', messageId: 9 })
  assert.equal(count(store, 'messages'), 0)
  await p.destroy()
  store.close()

  store = openStore(dir)
  p = new SqlitePersistence(store, limits)
  await p.setup(broker())
  try {
    assert.deepEqual(await drain(p.outgoingStream(client)), [{ cmd: 'pubrel', messageId: 9 }])
    assert.deepEqual(await p.outgoingClearMessageId(client, { topic: '', messageId: 9 }), { cmd: 'pubrel', messageId: 9 })
    assert.equal(p.queueDepth('q2').messages, 0)
  } finally {
    await p.destroy()
    store.close()
  }
}))

test('queued delivery takes the subscription QoS and clears retain without retain-as-published', withTempDir(async dir => {
  const store = openStore(dir)
  const p = new SqlitePersistence(store, limits)
  await p.setup(broker())
  try {
    const sub = { clientId: 'c', topic: 't/#', qos: 1, rh: 0, rap: undefined, nl: undefined }
    await p.outgoingEnqueueCombi([sub], { ...publish('r', 1), qos: 2, retain: true })
    const [queued] = await drain(p.outgoingStream({ id: 'c' }))
    assert.equal(queued?.qos, 1)
    assert.equal(queued?.retain, false)
  } finally {
    await p.destroy()
    store.close()
  }
}))

test('retained matching follows MQTT wildcards and keeps $ topics from leading wildcards', withTempDir(async dir => {
  const store = openStore(dir)
  const p = new SqlitePersistence(store, limits)
  await p.setup(broker())
  try {
    for (const topic of ['a', 'a/b', 'a/b/c', '$SYS/x', 'z']) {
      await p.storeRetained({ cmd: 'publish', topic, payload: Buffer.from(topic), qos: 0, retain: true })
    }
    const topics = async (filter: string): Promise<string[]> => (await drain(p.createRetainedStream(filter))).map(r => r.topic as string).sort()
    assert.deepEqual(await topics('a/#'), ['a', 'a/b', 'a/b/c'])
    assert.deepEqual(await topics('+/b'), ['a/b'])
    assert.deepEqual(await topics('#'), ['a', 'a/b', 'a/b/c', 'z'])
    assert.deepEqual(await topics('$SYS/#'), ['$SYS/x'])
    await p.storeRetained({ cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(0), qos: 0, retain: true })
    assert.deepEqual(await topics('a/+'), [])
    assert.equal(p.stats().retained, 4)
  } finally {
    await p.destroy()
    store.close()
  }
}))

test('a batch re-run after another writer failed leaves queue counts and drop reports exact', withTempDir(async dir => {
  const store = openStore(dir)
  const dropped: string[] = []
  const p = new SqlitePersistence(store, { maxQueuedMessages: 3, maxQueuedBytes: 1 << 20, queueOverflow: 'drop-newest', onOverflow: (id, which) => dropped.push(`${id}:${which}`) })
  await p.setup(broker())
  try {
    const sub = { clientId: 'c', topic: 't', qos: 1 }
    // One turn: two enqueues run, the foreign write fails, the store re-runs the batch one by one.
    const writes = [p.outgoingEnqueue(sub, publish('m1', 1)), p.outgoingEnqueue(sub, publish('m2', 2))]
    const failing = store.write(() => { throw new Error('foreign write fails') })
    writes.push(p.outgoingEnqueue(sub, publish('m3', 3)), p.outgoingEnqueue(sub, publish('m4', 4)))
    await assert.rejects(failing, /foreign write fails/)
    await Promise.all(writes)
    assert.deepEqual((await drain(p.outgoingStream({ id: 'c' }))).map(q => String(q.payload)), ['m1', 'm2', 'm3'])
    assert.deepEqual(p.queueDepth('c'), { messages: 3, bytes: 6 })
    assert.deepEqual(dropped, ['c:newest'])
    assert.equal(p.stats().overflowDropped, 1)
  } finally {
    await p.destroy()
    store.close()
  }
}))

test('incoming QoS 2 lookups see stores and deletes not committed yet', withTempDir(async dir => {
  const store = openStore(dir)
  const p = new SqlitePersistence(store, limits)
  await p.setup(broker())
  try {
    const client = { id: 'q2-in' }
    const packet = { cmd: 'publish', topic: 'in', payload: Buffer.from('x'), qos: 2, retain: false, dup: false, messageId: 5 }
    const stored = p.incomingStorePacket(client, packet)
    assert.equal((await p.incomingGetPacket(client, { messageId: 5 })).topic, 'in', 'found before the commit')
    await stored
    const deleted = p.incomingDelPacket(client, { messageId: 5 })
    await assert.rejects(p.incomingGetPacket(client, { messageId: 5 }), /no such packet/)
    await deleted
    await p.incomingStorePacket(client, packet)
    const cleaned = p.cleanIncoming(client)
    await assert.rejects(p.incomingGetPacket(client, { messageId: 5 }), /no such packet/)
    await cleaned
    assert.equal(count(store, 'mqtt_incoming'), 0)
  } finally {
    await p.destroy()
    store.close()
  }
}))
