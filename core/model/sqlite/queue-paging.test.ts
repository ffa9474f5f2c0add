// Durable queues longer than storage.queueMemoryMessagesMax (paged-tail.ts), on a real SQLite store.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Message } from '../message.ts'
import { ClassicQueue } from '../classic-queue.ts'
import { Taker, committed, count } from './model-store.test-support.ts'
import { MEMORY_MAX, bodies, declare, drain, open, owner, publishEach, transient, withDir } from './queue-paging.test-support.ts'

test(
  'a durable queue past queueMemoryMessagesMax keeps its head in memory and delivers every message in order',
  withDir(async dir => {
    const node = open(dir)
    const q = await declare(node.vhost, 'q')
    await publishEach(node.vhost, 'q', bodies(100))
    assert.equal(q.messageCount, 100)
    assert.equal(q.messageBytes, bodies(100).join('').length)
    assert.ok(q.messagesInMemory <= MEMORY_MAX + 1, `in memory: ${q.messagesInMemory}`)
    const got = await drain(node, 'q', 100)
    assert.deepEqual(
      got.map(m => m.body),
      bodies(100)
    )
    assert.ok(got.every(m => !m.redelivered))
    assert.equal(q.messageCount, 0)
    assert.equal(count(node.store, 'queue_entries'), 0)
    assert.equal(count(node.store, 'messages'), 0)
    node.store.close()
  })
)

test(
  'a restart reads back only the head; the rest comes from the store in order, delivered ones marked redelivered',
  withDir(async dir => {
    const first = open(dir)
    await declare(first.vhost, 'q')
    await publishEach(first.vhost, 'q', bodies(50))
    // Three handed out and never acked: after the restart they come back first, as redelivered.
    const taker = new Taker(3)
    const q1 = first.vhost.consume('q', taker, owner)
    q1.dispatch()
    await committed(first.store)
    assert.equal(taker.got.length, 3)
    first.store.close()

    const second = open(dir)
    assert.equal(second.broker.restored.messages, MEMORY_MAX)
    assert.equal(second.broker.restored.pagedEntries, 40)
    const q2 = second.vhost.queue('q', owner)
    assert.ok(q2 instanceof ClassicQueue)
    assert.equal(q2.messageCount, 50)
    assert.equal(q2.messagesInMemory, MEMORY_MAX)
    // New messages go behind what the store holds.
    await publishEach(second.vhost, 'q', bodies(5, 50))
    const got = await drain(second, 'q', 55)
    assert.deepEqual(
      got.map(m => m.body),
      bodies(55)
    )
    const redelivered = got.filter(m => m.redelivered).map(m => m.body)
    assert.ok(
      ['m0', 'm1', 'm2'].every(b => redelivered.includes(b)),
      `redelivered: ${redelivered}`
    )
    assert.ok(!redelivered.includes('m50'))
    assert.equal(count(second.store, 'queue_entries'), 0)
    second.store.close()
  })
)

test(
  'a purge removes the paged-out messages from the store too',
  withDir(async dir => {
    const node = open(dir)
    const q = await declare(node.vhost, 'q')
    await publishEach(node.vhost, 'q', bodies(60))
    assert.equal(node.vhost.purgeQueue('q', owner), 60)
    assert.equal(q.messageCount, 0)
    assert.equal(q.messageBytes, 0)
    await committed(node.store)
    assert.equal(count(node.store, 'queue_entries'), 0)
    assert.equal(count(node.store, 'messages'), 0)
    // and it pages again from empty
    await publishEach(node.vhost, 'q', bodies(30, 100))
    assert.deepEqual(
      (await drain(node, 'q', 30)).map(m => m.body),
      bodies(30, 100)
    )
    node.store.close()
  })
)

test(
  'a transient message among persistent ones keeps its place',
  withDir(async dir => {
    const node = open(dir)
    const q = await declare(node.vhost, 'q')
    await publishEach(node.vhost, 'q', bodies(20))
    await publishEach(node.vhost, 'q', ['t20'], transient)
    await publishEach(node.vhost, 'q', bodies(20, 21))
    assert.equal(q.messageCount, 41)
    const got = await drain(node, 'q', 41)
    assert.deepEqual(
      got.map(m => m.body),
      [...bodies(20), 't20', ...bodies(20, 21)]
    )
    node.store.close()
  })
)

test(
  'a message in two queues, paged out in both, leaves the store once both acked it',
  withDir(async dir => {
    const node = open(dir)
    await declare(node.vhost, 'a')
    await declare(node.vhost, 'b')
    await node.vhost.bindQueue('a', 'amq.fanout', '', {}, owner)
    await node.vhost.bindQueue('b', 'amq.fanout', '', {}, owner)
    for (const b of bodies(40)) await node.vhost.publish('amq.fanout', new Message('amq.fanout', '', { deliveryMode: 2 }, Buffer.from(b), 1000, null)).stored
    assert.equal(count(node.store, 'messages'), 40)
    assert.deepEqual(
      (await drain(node, 'a', 40)).map(m => m.body),
      bodies(40)
    )
    assert.equal(count(node.store, 'messages'), 40, 'queue b still holds every message')
    assert.deepEqual(
      (await drain(node, 'b', 40)).map(m => m.body),
      bodies(40)
    )
    assert.equal(count(node.store, 'queue_entries'), 0)
    assert.equal(count(node.store, 'messages'), 0)
    node.store.close()
  })
)

test(
  'x-max-length counts the paged-out messages: drop-head drops the oldest',
  withDir(async dir => {
    const node = open(dir)
    const q = await declare(node.vhost, 'q', { 'x-max-length': 30 })
    await publishEach(node.vhost, 'q', bodies(50))
    assert.equal(q.messageCount, 30)
    assert.deepEqual(
      (await drain(node, 'q', 30)).map(m => m.body),
      bodies(30, 20)
    )
    node.store.close()
  })
)

test(
  'requeued messages go back before the paged-out ones',
  withDir(async dir => {
    const node = open(dir)
    const q = await declare(node.vhost, 'q')
    await publishEach(node.vhost, 'q', bodies(40))
    const taker = new Taker(5)
    node.vhost.consume('q', taker, owner)
    q.dispatch()
    await committed(node.store)
    assert.equal(taker.got.length, 5)
    q.requeue(taker.got.map(g => g.entry))
    node.vhost.cancel(q, taker)
    const got = await drain(node, 'q', 40)
    assert.deepEqual(
      got.map(m => m.body),
      bodies(40)
    )
    assert.deepEqual(
      got.filter(m => m.redelivered).map(m => m.body),
      bodies(5)
    )
    node.store.close()
  })
)

test(
  'queueMemoryMessagesMax 0 and priority queues hold every message in memory',
  withDir(async dir => {
    const node = open(dir, 0)
    const q = await declare(node.vhost, 'q')
    await publishEach(node.vhost, 'q', bodies(30))
    assert.equal(q.messagesInMemory, 30)
    node.store.close()
    const again = open(dir)
    const p = await declare(again.vhost, 'p', { 'x-max-priority': 5 })
    await publishEach(again.vhost, 'p', bodies(30))
    assert.equal(p.messagesInMemory, 30)
    assert.equal(again.vhost.queue('q', owner).messageCount, 30)
    again.store.close()
  })
)
