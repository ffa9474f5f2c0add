// Durability through a real restart on the same data directory: durable exchanges, queues and
// bindings come back; persistent messages in durable queues come back in order (acked ones do
// not, transient ones do not); deliveries left unacked come back redelivered.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConfirmChannel, Message } from 'amqplib'
import { startTestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect, consume, expectChannelClosed } from './support/amqp-helpers.ts'

describe('AMQP durability across a restart', { timeout: 60_000 }, () => {
  test('definitions and persistent messages survive stop/start; transient and acked ones do not', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp-restart-'))
    try {
      const first = await startTestBroker(() => {}, dir)
      t.after(() => first.stop()) // a no-op once stopped below; else a failure before that leaves it running
      const conn = await connect(first.amqpUrl)
      const ch = await channel(conn)
      await ch.assertExchange('orders', 'topic', { durable: true, alternateExchange: 'orders.ae' })
      await ch.assertExchange('orders.ae', 'fanout', { durable: true })
      await ch.assertExchange('scratch', 'fanout', { durable: false })
      await ch.assertQueue('orders.eu', { durable: true, arguments: { 'x-max-length': 1000 } })
      await ch.assertQueue('orders.unrouted', { durable: true })
      await ch.assertQueue('transient', { durable: false })
      await ch.bindQueue('orders.eu', 'orders', 'eu.#')
      await ch.bindQueue('orders.unrouted', 'orders.ae', '')
      await ch.bindExchange('orders', 'amq.topic', 'shop.#')
      const cc: ConfirmChannel = await conn.createConfirmChannel()
      for (let i = 0; i < 10; i++) cc.publish('orders', 'eu.de', Buffer.from(`p${i}`), { persistent: true, messageId: `id-${i}`, headers: { n: i } })
      cc.publish('orders', 'eu.fr', Buffer.from('transient-msg'), { persistent: false })
      cc.publish('orders', 'us.ny', Buffer.from('via-ae'), { persistent: true })
      cc.sendToQueue('transient', Buffer.from('gone'), { persistent: true })
      await cc.waitForConfirms()

      // take three (prefetch 3), ack p0 (which lets p3 come): p1..p3 are unacked when the broker stops
      const taker = await channel(conn)
      await taker.prefetch(3)
      const inbox = await consume(taker, 'orders.eu')
      await inbox.waitFor(3)
      taker.ack(inbox.messages[0] as Message)
      await inbox.waitFor(4)
      await conn.close()
      await first.stop()

      const second = await startTestBroker(() => {}, dir)
      t.after(() => second.stop())
      const conn2 = await connect(second.amqpUrl)
      try {
        const ch2 = await channel(conn2)
        await ch2.checkExchange('orders')
        await ch2.checkExchange('orders.ae')
        const gone = await channel(conn2)
        await expectChannelClosed(gone, () => gone.checkExchange('scratch'), 404)
        const gone2 = await channel(conn2)
        await expectChannelClosed(gone2, () => gone2.checkQueue('transient'), 404)
        const typed = await channel(conn2)
        await expectChannelClosed(typed, () => typed.assertExchange('orders', 'direct', { durable: true }), 406, /inequivalent arg 'type'/)
        const argued = await channel(conn2)
        await expectChannelClosed(argued, () => argued.assertQueue('orders.eu', { durable: true, arguments: { 'x-max-length': 5 } }), 406, /x-max-length/)
        assert.deepEqual(await ch2.checkQueue('orders.eu'), { queue: 'orders.eu', messageCount: 9, consumerCount: 0 })

        const all = await consume(ch2, 'orders.eu', { noAck: true })
        await all.waitFor(9)
        assert.deepEqual(
          all.messages.map(m => [m.content.toString(), m.fields.redelivered]),
          [
            ['p1', true],
            ['p2', true],
            ['p3', true],
            ['p4', false],
            ['p5', false],
            ['p6', false],
            ['p7', false],
            ['p8', false],
            ['p9', false]
          ]
        )
        const p5 = all.messages[4] as Message
        assert.deepEqual(
          [p5.properties.messageId, p5.properties.headers, p5.properties.deliveryMode, p5.fields.exchange, p5.fields.routingKey],
          ['id-5', { n: 5 }, 2, 'orders', 'eu.de']
        )
        const unrouted = await ch2.get('orders.unrouted', { noAck: true })
        assert.ok(unrouted !== false)
        assert.equal(unrouted.content.toString(), 'via-ae')

        // the bindings work: the queue binding, and amq.topic → orders (e2e) → orders.ae (its AE)
        ch2.publish('orders', 'eu.it', Buffer.from('direct'))
        ch2.publish('amq.topic', 'shop.x', Buffer.from('e2e-then-ae'))
        await all.waitFor(10)
        assert.equal(all.bodies()[9], 'direct')
        const viaE2e = await ch2.get('orders.unrouted', { noAck: true })
        assert.ok(viaE2e !== false)
        assert.equal(viaE2e.content.toString(), 'e2e-then-ae')
        assert.equal(second.node.broker.restored.queues, 2)
      } finally {
        await closeQuietly(conn2)
        await second.stop()
      }
      // and once consumed, nothing comes back a third time
      const third = await startTestBroker(() => {}, dir)
      t.after(() => third.stop())
      const conn3 = await connect(third.amqpUrl)
      try {
        const ch3 = await channel(conn3)
        assert.equal((await ch3.checkQueue('orders.eu')).messageCount, 0)
        assert.equal((await ch3.checkQueue('orders.unrouted')).messageCount, 0)
        const left = third.node.store.db.prepare('SELECT count(*) FROM messages WHERE exchange IS NOT NULL').pluck().get()
        assert.equal(left, 0, 'acked messages are deleted from SQLite')
      } finally {
        await closeQuietly(conn3)
        await third.stop()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('deleting a durable queue or exchange deletes it for good', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp-restart-'))
    try {
      const first = await startTestBroker(() => {}, dir)
      t.after(() => first.stop())
      const conn = await connect(first.amqpUrl)
      const ch = await channel(conn)
      await ch.assertQueue('temp-durable', { durable: true })
      await ch.assertExchange('temp-x', 'direct', { durable: true })
      await ch.bindQueue('temp-durable', 'temp-x', 'k')
      ch.sendToQueue('temp-durable', Buffer.from('m'), { persistent: true })
      await ch.deleteQueue('temp-durable')
      await ch.deleteExchange('temp-x')
      await conn.close()
      await first.stop()
      const second = await startTestBroker(() => {}, dir)
      try {
        const v = second.node.broker.vhost('/')
        assert.equal(v?.queues.has('temp-durable'), false)
        assert.equal(v?.exchanges.has('temp-x'), false)
        const db = second.node.store.db
        assert.equal(db.prepare('SELECT count(*) FROM bindings').pluck().get(), 0)
        assert.equal(db.prepare('SELECT count(*) FROM messages WHERE exchange IS NOT NULL').pluck().get(), 0)
      } finally {
        await second.stop()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
