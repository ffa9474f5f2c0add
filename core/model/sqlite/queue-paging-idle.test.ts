// A durable queue without consumers keeps only storage.idleQueueMemoryMessagesMax ready messages in
// memory (an offline MQTT session's backlog waits in SQLite), and a restart reads back only that
// many; a queue with a consumer keeps up to storage.queueMemoryMessagesMax. On a real SQLite store.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ClassicQueue } from '../classic-queue.ts'
import { Taker, committed, count } from './model-store.test-support.ts'
import { bodies, declare, drain, open, owner, persistent, publishEach, transient, withDir } from './queue-paging.test-support.ts'

const MEMORY_MAX = 100
const IDLE_MAX = 10

test(
  'a queue nobody consumes keeps idleQueueMemoryMessagesMax in memory; a consumer that attaches gets every message in order',
  withDir(async dir => {
    const node = open(dir, MEMORY_MAX, IDLE_MAX)
    const q = await declare(node.vhost, 'q')
    await publishEach(node.vhost, 'q', bodies(60))
    assert.equal(q.messageCount, 60)
    assert.ok(q.messagesInMemory <= IDLE_MAX + 1, `in memory: ${q.messagesInMemory}`)
    const got = await drain(node, 'q', 60)
    assert.deepEqual(
      got.map(m => m.body),
      bodies(60)
    )
    assert.equal(count(node.store, 'queue_entries'), 0)
    node.store.close()
  })
)

test(
  'with a consumer attached the queue keeps up to queueMemoryMessagesMax; once it leaves, all but the short head leave memory',
  withDir(async dir => {
    const node = open(dir, MEMORY_MAX, IDLE_MAX)
    const q = await declare(node.vhost, 'q')
    const stalled = new Taker(0) // attached, takes nothing: a client whose window is full
    node.vhost.consume('q', stalled, owner)
    await publishEach(node.vhost, 'q', bodies(60))
    assert.equal(q.messagesInMemory, 60, 'a consumed queue holds up to queueMemoryMessagesMax')
    node.vhost.cancel(q, stalled)
    assert.equal(q.messagesInMemory, IDLE_MAX, 'the last consumer gone, the rows already written leave memory')
    assert.equal(q.messageCount, 60)
    // What comes now waits in the store too (transient ones as well).
    await publishEach(node.vhost, 'q', bodies(20, 60), (key, body) => (Number(body.slice(1)) % 2 === 0 ? transient(key, body) : persistent(key, body)))
    assert.equal(q.messageCount, 80)
    // Held ones leave memory at the next publish after their commit: the last turn's two are still here.
    assert.ok(q.messagesInMemory <= IDLE_MAX + 2, `in memory: ${q.messagesInMemory}`)
    const got = await drain(node, 'q', 80)
    assert.deepEqual(
      got.map(m => m.body),
      bodies(80)
    )
    assert.ok(got.every(m => !m.redelivered))
    node.store.close()
  })
)

test(
  'a consumer leaving with messages unacked: the ready tail leaves memory at once, the returned ones come back first and redelivered',
  withDir(async dir => {
    const node = open(dir, MEMORY_MAX, IDLE_MAX)
    const q = await declare(node.vhost, 'q')
    await publishEach(node.vhost, 'q', bodies(5))
    const taker = new Taker(5) // takes five and never acks them: an MQTT window in flight at a disconnect
    node.vhost.consume('q', taker, owner)
    q.dispatch()
    await committed(node.store)
    assert.equal(taker.got.length, 5)
    await publishEach(node.vhost, 'q', bodies(55, 5))
    assert.equal(q.messagesInMemory, 55)
    node.vhost.cancel(q, taker)
    assert.equal(q.messagesInMemory, IDLE_MAX)
    q.requeue(taker.got.map(g => g.entry))
    // The five returned ones go back to the head; never handed out ones behind them leave memory again.
    assert.equal(q.messagesInMemory, IDLE_MAX)
    assert.equal(q.messageCount, 60)
    const got = await drain(node, 'q', 60)
    assert.deepEqual(
      got.map(m => m.body),
      bodies(60)
    )
    assert.deepEqual(
      got.map(m => m.redelivered),
      bodies(60).map((_, i) => i < 5)
    )
    node.store.close()
  })
)

test(
  'a transient message near the tail keeps what is behind it in memory when the consumer leaves; nothing is lost or reordered',
  withDir(async dir => {
    const node = open(dir, MEMORY_MAX, IDLE_MAX)
    const q = await declare(node.vhost, 'q')
    const stalled = new Taker(0)
    node.vhost.consume('q', stalled, owner)
    // Below the memory bound a transient message is not written, so the trim stops at it.
    await publishEach(node.vhost, 'q', bodies(60), (key, body) => (body === 'm49' ? transient(key, body) : persistent(key, body)))
    node.vhost.cancel(q, stalled)
    assert.equal(q.messagesInMemory, 50, 'm0 to m49 stay: m49 has no row to be read back from')
    const got = await drain(node, 'q', 60)
    assert.deepEqual(
      got.map(m => m.body),
      bodies(60)
    )
    node.store.close()
  })
)

test(
  'a restart after the trim reads back only the short head; the rest follows from the store in order',
  withDir(async dir => {
    const first = open(dir, MEMORY_MAX, IDLE_MAX)
    const q1 = await declare(first.vhost, 'q')
    const stalled = new Taker(0)
    first.vhost.consume('q', stalled, owner)
    await publishEach(first.vhost, 'q', bodies(60))
    first.vhost.cancel(q1, stalled)
    await publishEach(first.vhost, 'q', bodies(10, 60))
    first.store.close()

    const second = open(dir, MEMORY_MAX, IDLE_MAX)
    const q = second.vhost.queue('q', owner)
    assert.ok(q instanceof ClassicQueue)
    assert.equal(q.messageCount, 70)
    assert.equal(q.messagesInMemory, IDLE_MAX)
    const got = await drain(second, 'q', 70)
    assert.deepEqual(
      got.map(m => m.body),
      bodies(70)
    )
    second.store.close()
  })
)

test(
  'a restart reads back only idleQueueMemoryMessagesMax of each queue; the rest follows from the store in order',
  withDir(async dir => {
    const first = open(dir, MEMORY_MAX, IDLE_MAX)
    await declare(first.vhost, 'q')
    await publishEach(first.vhost, 'q', bodies(60))
    first.store.close()

    const second = open(dir, MEMORY_MAX, IDLE_MAX)
    assert.equal(second.broker.restored.messages, IDLE_MAX)
    assert.equal(second.broker.restored.pagedEntries, 50)
    const q = second.vhost.queue('q', owner)
    assert.ok(q instanceof ClassicQueue)
    assert.equal(q.messageCount, 60)
    assert.equal(q.messagesInMemory, IDLE_MAX)
    const got = await drain(second, 'q', 60)
    assert.deepEqual(
      got.map(m => m.body),
      bodies(60)
    )
    await committed(second.store)
    assert.equal(count(second.store, 'messages'), 0)
    second.store.close()
  })
)

test(
  'after a restart the entries possibly delivered before it are counted over the whole backlog, not only the head read back',
  withDir(async dir => {
    const first = open(dir, MEMORY_MAX, IDLE_MAX)
    await declare(first.vhost, 'q')
    await publishEach(first.vhost, 'q', bodies(60))
    // Forty handed out and never acked (a bridge's forwards awaiting the remote's confirm at a kill).
    const taker = new Taker(40)
    const q1 = first.vhost.consume('q', taker, owner)
    q1.dispatch()
    await committed(first.store)
    assert.equal(taker.got.length, 40)
    first.store.close()

    const second = open(dir, MEMORY_MAX, IDLE_MAX)
    const q = second.vhost.queue('q', owner)
    assert.ok(q instanceof ClassicQueue)
    assert.equal(q.messagesInMemory, IDLE_MAX)
    // The delivered watermark is stored ahead of the hand-outs, so at least the forty count; the
    // count is what comes back marked redelivered, the ones still in the store included.
    const counted = q.possiblyDeliveredAtStart()
    assert.ok(counted >= 40 && counted > IDLE_MAX, `counted: ${counted}`)
    const got = await drain(second, 'q', 60)
    assert.equal(got.filter(m => m.redelivered).length, counted)
    assert.deepEqual(
      got.map(m => m.body),
      bodies(60)
    )
    second.store.close()
  })
)
