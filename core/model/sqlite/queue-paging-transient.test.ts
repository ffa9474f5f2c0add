// Transient messages in a durable queue that pages (paged-tail.ts): held back past
// storage.queueMemoryMessagesMax, they are written (marked transient) and leave memory as persistent
// ones do, come back in order, leave the store with their entries, and do not outlive a restart.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Message } from '../message.ts'
import type { SqliteStore } from '../../storage/sqlite-store.ts'
import { Taker, committed, count } from './model-store.test-support.ts'
import { ClassicQueue } from '../classic-queue.ts'
import { MEMORY_MAX, declare, drain, open, owner, withDir, type Node } from './queue-paging.test-support.ts'

/** Messages published in one turn before a commit: held entries page out at the next hold after theirs is written. */
const BATCH = 8

/** Two in three transient, the heavy side of a mix of MQTT QoS 0 and QoS 1. Bodies say which: t<i> or p<i>. */
const isTransient = (i: number): boolean => i % 3 !== 0
const mixed = (n: number, from = 0): string[] => Array.from({ length: n }, (_, k) => `${isTransient(from + k) ? 't' : 'p'}${from + k}`)
const persistentOnes = (bs: readonly string[]): string[] => bs.filter(b => b.startsWith('p'))

/**
 * Publishes in turns of BATCH messages, each turn committed; returns the most messages the queue
 * held in memory after any turn.
 */
async function publishMixed(node: Node, exchange: string, routingKey: string, bs: readonly string[], now = 1000): Promise<number> {
  const q = exchange === '' ? node.vhost.queue(routingKey, owner) : undefined
  let most = 0
  for (let at = 0; at < bs.length; at += BATCH) {
    for (const b of bs.slice(at, at + BATCH)) {
      const properties = b.startsWith('t') ? {} : { deliveryMode: 2 }
      void node.vhost.publish(exchange, new Message(exchange, routingKey, properties, Buffer.from(b), now, null)).stored
    }
    await committed(node.store)
    if (q instanceof ClassicQueue) most = Math.max(most, q.messagesInMemory)
  }
  return most
}

const transientRows = (store: SqliteStore): number => (store.db.prepare('SELECT count(*) AS n FROM queue_entries WHERE transient = 1').get() as { n: number }).n

test(
  'a long mixed run past the bound keeps only the bound in memory (transient ones page out too) and is delivered in order',
  withDir(async dir => {
    const node = open(dir)
    const q = await declare(node.vhost, 'q')
    const all = mixed(3000)
    const most = await publishMixed(node, '', 'q', all)
    // The ready list, and at most the last turn's entries, written but not yet paged out.
    assert.ok(most <= MEMORY_MAX + BATCH, `at most ${most} in memory`)
    assert.ok(q.messagesInMemory <= MEMORY_MAX + BATCH, `in memory at the end: ${q.messagesInMemory}`)
    assert.equal(q.messageCount, all.length)
    assert.equal(q.messageBytes, all.join('').length)
    assert.ok(transientRows(node.store) > 1900, `transient entries written: ${transientRows(node.store)}`)
    const got = await drain(node, 'q', all.length)
    assert.deepEqual(
      got.map(m => m.body),
      all
    )
    assert.ok(got.every(m => !m.redelivered))
    assert.equal(q.messageCount, 0)
    assert.equal(count(node.store, 'queue_entries'), 0)
    assert.equal(count(node.store, 'messages'), 0)
    node.store.close()
  })
)

test(
  'a restart brings back only the persistent messages, in order: the transient ones written are deleted with their message rows',
  withDir(async dir => {
    const first = open(dir)
    await declare(first.vhost, 'q')
    const all = mixed(300)
    await publishMixed(first, '', 'q', all)
    const written = transientRows(first.store)
    assert.ok(written > 0)
    first.store.close()

    const second = open(dir)
    const kept = persistentOnes(all)
    assert.equal(second.broker.restored.transientEntriesDropped, written)
    assert.equal(transientRows(second.store), 0)
    assert.equal(count(second.store, 'queue_entries'), kept.length)
    assert.equal(count(second.store, 'messages'), kept.length, 'no message row is left without its entries')
    assert.equal(second.broker.restored.messages, MEMORY_MAX)
    assert.equal(second.broker.restored.pagedEntries, kept.length - MEMORY_MAX)
    const q = second.vhost.queue('q', owner)
    assert.equal(q.messageCount, kept.length)
    assert.equal(q.messageBytes, kept.join('').length)
    // New messages (transient ones too) go behind what the store holds.
    const more = mixed(30, 300)
    await publishMixed(second, '', 'q', more)
    assert.deepEqual(
      (await drain(second, 'q', kept.length + more.length)).map(m => m.body),
      [...kept, ...more]
    )
    assert.equal(count(second.store, 'queue_entries'), 0)
    assert.equal(count(second.store, 'messages'), 0)
    second.store.close()
  })
)

test(
  'a purge removes the transient messages paged out; the queue pages again from empty',
  withDir(async dir => {
    const node = open(dir)
    const q = await declare(node.vhost, 'q')
    await publishMixed(node, '', 'q', mixed(100))
    assert.equal(node.vhost.purgeQueue('q', owner), 100)
    assert.equal(q.messageCount, 0)
    assert.equal(q.messageBytes, 0)
    await committed(node.store)
    assert.equal(count(node.store, 'queue_entries'), 0)
    assert.equal(count(node.store, 'messages'), 0)
    const again = mixed(40, 100)
    await publishMixed(node, '', 'q', again)
    assert.deepEqual(
      (await drain(node, 'q', 40)).map(m => m.body),
      again
    )
    assert.equal(count(node.store, 'messages'), 0)
    node.store.close()
  })
)

test(
  'x-max-length drop-head drops the oldest, transient ones paged out among them, and their rows',
  withDir(async dir => {
    const node = open(dir)
    const q = await declare(node.vhost, 'q', { 'x-max-length': 30 })
    const all = mixed(100)
    await publishMixed(node, '', 'q', all)
    assert.equal(q.messageCount, 30)
    await committed(node.store)
    // Every one left was held back, so written; the 70 dropped took their rows with them.
    assert.equal(count(node.store, 'queue_entries'), 30)
    assert.equal(count(node.store, 'messages'), 30)
    assert.deepEqual(
      (await drain(node, 'q', 30)).map(m => m.body),
      all.slice(70)
    )
    assert.equal(count(node.store, 'queue_entries'), 0)
    assert.equal(count(node.store, 'messages'), 0)
    node.store.close()
  })
)

test(
  'TTL expiry reaches the transient messages paged out and deletes their rows',
  withDir(async dir => {
    const node = open(dir)
    const q = await declare(node.vhost, 'q', { 'x-message-ttl': 5000 })
    await publishMixed(node, '', 'q', mixed(100), node.clock.nowMs())
    assert.equal(q.messageCount, 100)
    node.clock.advance(6000)
    q.expire(node.clock.nowMs())
    assert.equal(q.messageCount, 0)
    await committed(node.store)
    assert.equal(count(node.store, 'queue_entries'), 0)
    assert.equal(count(node.store, 'messages'), 0)
    node.store.close()
  })
)

test(
  'transient messages read back and requeued go back before the rest, marked redelivered',
  withDir(async dir => {
    const node = open(dir)
    const q = await declare(node.vhost, 'q')
    const all = mixed(60)
    await publishMixed(node, '', 'q', all)
    // 25 taken: past the ten that were in memory, into those read back from the store.
    const taker = new Taker(25)
    node.vhost.consume('q', taker, owner)
    q.dispatch()
    await committed(node.store)
    assert.equal(taker.got.length, 25)
    q.requeue(taker.got.map(g => g.entry))
    node.vhost.cancel(q, taker)
    const got = await drain(node, 'q', 60)
    assert.deepEqual(
      got.map(m => m.body),
      all
    )
    assert.deepEqual(
      got.filter(m => m.redelivered).map(m => m.body),
      all.slice(0, 25)
    )
    assert.equal(count(node.store, 'queue_entries'), 0)
    assert.equal(count(node.store, 'messages'), 0)
    node.store.close()
  })
)

test(
  'a transient message in two paging queues is one row with two references: it goes with the last entry (an ack, a queue delete)',
  withDir(async dir => {
    const node = open(dir)
    await declare(node.vhost, 'a')
    await declare(node.vhost, 'b')
    // A priority queue holds everything in memory: its entries are never written, and take no reference.
    await declare(node.vhost, 'p', { 'x-max-priority': 5 })
    for (const name of ['a', 'b', 'p']) await node.vhost.bindQueue(name, 'amq.fanout', '', {}, owner)
    const all = Array.from({ length: 40 }, (_, i) => `t${i}`)
    await publishMixed(node, 'amq.fanout', '', all)
    const refs = node.store.db.prepare('SELECT refs FROM messages').pluck().all() as number[]
    assert.equal(refs.length, 40 - MEMORY_MAX, 'one row per message held back')
    assert.ok(
      refs.every(r => r === 2),
      `refs: ${refs}`
    )
    assert.equal(transientRows(node.store), 2 * (40 - MEMORY_MAX))
    assert.deepEqual(
      (await drain(node, 'a', 40)).map(m => m.body),
      all
    )
    assert.equal(count(node.store, 'messages'), 40 - MEMORY_MAX, 'queue b still holds every message')
    assert.equal(await node.vhost.deleteQueue('b', { ifUnused: false, ifEmpty: false }, owner), 40)
    assert.equal(count(node.store, 'queue_entries'), 0)
    assert.equal(count(node.store, 'messages'), 0)
    assert.deepEqual(
      (await drain(node, 'p', 40)).map(m => m.body),
      all,
      'the in-memory copies are untouched'
    )
    node.store.close()
  })
)

test(
  'a restart keeps a transient message that a quorum queue stores too: the paging queue loses its entry, the row keeps the other reference',
  withDir(async dir => {
    const first = open(dir)
    await declare(first.vhost, 'c')
    await declare(first.vhost, 'qq', { 'x-queue-type': 'quorum' })
    for (const name of ['c', 'qq']) await first.vhost.bindQueue(name, 'amq.fanout', '', {}, owner)
    const all = mixed(60)
    await publishMixed(first, 'amq.fanout', '', all)
    const written = transientRows(first.store)
    assert.equal(written, all.slice(MEMORY_MAX).filter(b => b.startsWith('t')).length)
    first.store.close()

    const second = open(dir)
    assert.equal(second.broker.restored.transientEntriesDropped, written)
    assert.equal(count(second.store, 'messages'), all.length, 'the quorum queue still references every message')
    const kept = persistentOnes(all)
    assert.equal(second.vhost.queue('c', owner).messageCount, kept.length)
    assert.deepEqual(
      (await drain(second, 'c', kept.length)).map(m => m.body),
      kept
    )
    assert.equal(count(second.store, 'messages'), all.length)
    assert.deepEqual(
      (await drain(second, 'qq', all.length)).map(m => m.body),
      all
    )
    assert.equal(count(second.store, 'queue_entries'), 0)
    assert.equal(count(second.store, 'messages'), 0)
    second.store.close()
  })
)

test(
  'under the bound nothing transient is written',
  withDir(async dir => {
    const node = open(dir)
    await declare(node.vhost, 'q')
    await publishMixed(node, '', 'q', mixed(MEMORY_MAX))
    assert.equal(transientRows(node.store), 0)
    assert.equal(count(node.store, 'queue_entries'), persistentOnes(mixed(MEMORY_MAX)).length)
    node.store.close()
  })
)
