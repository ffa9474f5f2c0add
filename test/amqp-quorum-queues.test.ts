// Quorum queues through amqplib, as RabbitMQ 3.13 has them on one node: the declaration checks
// (durable only; not exclusive, not auto-delete; no classic-only arguments), every message stored
// (a transient one survives a restart, where a classic queue drops it), the x-delivery-count header
// on redeliveries, and x-delivery-limit dead-lettering a message given back too often (delivery_limit),
// with the count kept across a restart.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel, GetMessage } from 'amqplib'
import { startTestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect, consume, eventually, expectChannelClosed } from './support/amqp-helpers.ts'
import { adminFetch } from './support/admin-http.ts'

const QUORUM = { 'x-queue-type': 'quorum' }

describe('AMQP quorum queues', { timeout: 60_000 }, () => {
  test('declared durable, seen as quorum; non-durable, exclusive, auto-delete and classic-only arguments are 406', async t => {
    const broker = await startTestBroker()
    t.after(() => broker.close())
    const conn = await connect(broker.amqpUrl)
    t.after(() => closeQuietly(conn))
    const ch = await channel(conn)
    await ch.assertQueue('orders', { durable: true, arguments: { ...QUORUM, 'x-delivery-limit': 5, 'x-quorum-initial-group-size': 3 } })
    await ch.assertQueue('orders', { durable: true, arguments: { ...QUORUM, 'x-delivery-limit': 5, 'x-quorum-initial-group-size': 3 } }) // equivalent
    const seen = (await (await adminFetch(`${broker.adminUrl}/api/queues/%2F/orders`)).json()) as Record<string, unknown>
    assert.deepEqual([seen.type, seen.durable], ['quorum', true])

    const refused: Array<[string, Record<string, unknown>, RegExp]> = [
      ['q-transient', { durable: false, arguments: QUORUM }, /invalid property 'non-durable'/],
      ['q-exclusive', { durable: true, exclusive: true, arguments: QUORUM }, /invalid property 'exclusive-owner'/],
      ['q-auto', { durable: true, autoDelete: true, arguments: QUORUM }, /invalid property 'auto-delete'/],
      ['q-priority', { durable: true, arguments: { ...QUORUM, 'x-max-priority': 5 } }, /invalid arg 'x-max-priority'.*quorum/],
      ['q-dlx-overflow', { durable: true, arguments: { ...QUORUM, 'x-overflow': 'reject-publish-dlx' } }, /invalid arg 'x-overflow'.*quorum/],
      ['q-limit', { durable: true, arguments: { ...QUORUM, 'x-delivery-limit': 'ten' } }, /invalid arg 'x-delivery-limit'/]
    ]
    for (const [name, options, text] of refused) {
      const c = await channel(conn)
      await expectChannelClosed(c, () => c.assertQueue(name, options), 406, text)
    }
    const c = await channel(conn)
    await expectChannelClosed(c, () => c.checkQueue('q-transient'), 404)
  })

  test('a transient message in a quorum queue is stored and survives a restart; in a classic queue it does not', async t => {
    const first = await startTestBroker()
    t.after(() => first.close())
    let conn: ChannelModel | undefined = await connect(first.amqpUrl)
    const ch = await conn.createConfirmChannel()
    await ch.assertQueue('kept', { durable: true, arguments: QUORUM })
    await ch.assertQueue('classic', { durable: true })
    ch.sendToQueue('kept', Buffer.from('transient, quorum'), { persistent: false })
    ch.sendToQueue('classic', Buffer.from('transient, classic'), { persistent: false })
    await ch.waitForConfirms()
    await closeQuietly(conn)
    await first.stop()

    const second = await startTestBroker(() => {}, first.dataDir)
    t.after(() => second.close())
    conn = await connect(second.amqpUrl)
    t.after(() => closeQuietly(conn))
    const again: Channel = await channel(conn)
    const kept = await again.get('kept', { noAck: true })
    assert.ok(kept !== false, 'the quorum queue kept its transient message')
    assert.equal(kept.content.toString(), 'transient, quorum')
    assert.equal(kept.properties.deliveryMode, 1) // stored, but delivered as it was published
    assert.equal((await again.checkQueue('classic')).messageCount, 0)
  })

  test('x-delivery-count on each redelivery; x-delivery-limit: given back more often than the limit, dead-lettered with reason delivery_limit', async t => {
    const broker = await startTestBroker()
    t.after(() => broker.close())
    const conn = await connect(broker.amqpUrl)
    t.after(() => closeQuietly(conn))
    const ch = await channel(conn)
    await ch.assertQueue('poison', { durable: true })
    await ch.assertQueue('jobs', {
      durable: true,
      arguments: { ...QUORUM, 'x-delivery-limit': 2, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'poison' }
    })
    const worker = await channel(conn)
    await worker.prefetch(1)
    const inbox = await consume(worker, 'jobs', {}, m => worker.nack(m, false, true))
    ch.sendToQueue('jobs', Buffer.from('bad job'), { persistent: true })
    await inbox.waitFor(3)
    let dead: GetMessage | false = false
    await eventually('the job dead-lettered', async () => (dead = await ch.get('poison', { noAck: true })) !== false, 5000)
    const got = dead as unknown as GetMessage
    assert.equal(got.content.toString(), 'bad job')
    const death = got.properties.headers?.['x-death']?.[0]
    assert.deepEqual([death?.reason, death?.queue, death?.count], ['delivery_limit', 'jobs', 1])
    assert.equal(inbox.messages.length, 3) // delivered, given back twice within the limit, the third time over it
    assert.deepEqual(
      inbox.messages.map(m => [m.fields.redelivered, m.properties.headers?.['x-delivery-count']]),
      [
        [false, undefined],
        [true, 1],
        [true, 2]
      ]
    )
    assert.equal((await ch.checkQueue('jobs')).messageCount, 0)
  })

  test('the delivery count survives a restart: x-delivery-count goes on from it, and x-delivery-limit counts the returns before it', async t => {
    const args = { ...QUORUM, 'x-delivery-limit': 3, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'poison' }
    const first = await startTestBroker()
    t.after(() => first.close())
    let conn: ChannelModel | undefined = await connect(first.amqpUrl)
    let ch = await channel(conn)
    await ch.assertQueue('poison', { durable: true })
    await ch.assertQueue('jobs', { durable: true, arguments: args })
    ch.sendToQueue('jobs', Buffer.from('bad job'), { persistent: true })
    const counts: unknown[] = []
    /** Takes the job, notes its x-delivery-count, gives it back. */
    const takeAndReturn = async (): Promise<void> => {
      let m: GetMessage | false = false
      await eventually('the job', async () => (m = await ch.get('jobs')) !== false, 5000)
      const got = m as unknown as GetMessage
      counts.push(got.properties.headers?.['x-delivery-count'])
      ch.nack(got, false, true)
    }
    await takeAndReturn()
    await takeAndReturn()
    await closeQuietly(conn)
    await first.stop()

    const second = await startTestBroker(() => {}, first.dataDir)
    t.after(() => second.close())
    conn = await connect(second.amqpUrl)
    t.after(() => closeQuietly(conn))
    ch = await channel(conn)
    await takeAndReturn()
    await takeAndReturn() // the fourth return: over the limit of 3
    assert.deepEqual(counts, [undefined, 1, 2, 3], 'counted on across the restart')
    let dead: GetMessage | false = false
    await eventually('the job dead-lettered', async () => (dead = await ch.get('poison', { noAck: true })) !== false, 5000)
    const death = (dead as unknown as GetMessage).properties.headers?.['x-death']?.[0]
    assert.deepEqual([death?.reason, death?.queue], ['delivery_limit', 'jobs'])
    assert.equal((await ch.checkQueue('jobs')).messageCount, 0)
  })
})
