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
  'with a consumer attached the queue keeps up to queueMemoryMessagesMax; once it leaves, new messages page out past the short head',
  withDir(async dir => {
    const node = open(dir, MEMORY_MAX, IDLE_MAX)
    const q = await declare(node.vhost, 'q')
    const stalled = new Taker(0) // attached, takes nothing: a client whose window is full
    node.vhost.consume('q', stalled, owner)
    await publishEach(node.vhost, 'q', bodies(60))
    assert.equal(q.messagesInMemory, 60, 'a consumed queue holds up to queueMemoryMessagesMax')
    node.vhost.cancel(q, stalled)
    // The 60 already in memory stay there; what comes now waits in the store (transient ones too).
    await publishEach(node.vhost, 'q', bodies(20, 60), (key, body) => (Number(body.slice(1)) % 2 === 0 ? transient(key, body) : persistent(key, body)))
    assert.equal(q.messageCount, 80)
    // Held ones leave memory at the next publish after their commit: the last turn's two are still here.
    assert.ok(q.messagesInMemory <= 62, `in memory: ${q.messagesInMemory}`)
    const got = await drain(node, 'q', 80)
    assert.deepEqual(
      got.map(m => m.body),
      bodies(80)
    )
    node.store.close()
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
