// Consumer priorities through amqplib (its consume option `priority`, argument x-priority), as
// RabbitMQ 3.13 does them (consumer-priority.html): while a higher-priority consumer has credit it
// gets the messages; lower ones get them only while it is blocked (prefetch full); consumers of one
// priority share round robin. Wharf ignored x-priority and served every consumer round robin.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel } from 'amqplib'
import { channel, consume, eventually, expectChannelClosed, withAmqpBroker } from './support/amqp-helpers.ts'

describe('AMQP review: consumer priorities', { timeout: 30_000 }, () => {
  let conn: ChannelModel
  let ch: Channel
  withAmqpBroker(opened => ({ conn, ch } = opened))

  const publish = (q: string, n: number): void => {
    for (let i = 0; i < n; i++) ch.sendToQueue(q, Buffer.from(`m${i}`))
  }

  test('the highest-priority consumer with credit gets everything; equal priorities share round robin', async () => {
    await ch.assertQueue('prio.all')
    const c = await channel(conn)
    const low = await consume(c, 'prio.all', { noAck: true })
    const highA = await consume(c, 'prio.all', { noAck: true, priority: 10 })
    const negative = await consume(c, 'prio.all', { noAck: true, priority: -5 })
    const highB = await consume(c, 'prio.all', { noAck: true, priority: 10 })
    publish('prio.all', 6)
    await eventually('6 deliveries to the priority 10 consumers', () => highA.messages.length + highB.messages.length === 6)
    assert.equal(highA.messages.length, 3)
    assert.equal(highB.messages.length, 3)
    await c.checkQueue('prio.all') // a round trip: a stray delivery to the others would be here by now
    assert.equal(low.messages.length + negative.messages.length, 0)
    await c.close()
  })

  test('a lower-priority consumer gets messages while the higher one is blocked by its prefetch, and the higher one again once it acks', async () => {
    await ch.assertQueue('prio.blocked')
    const hc = await channel(conn)
    await hc.prefetch(2)
    const high = await consume(hc, 'prio.blocked', { priority: 5 })
    const lc = await channel(conn)
    const low = await consume(lc, 'prio.blocked', { noAck: true })
    publish('prio.blocked', 5)
    await eventually('2 to the high, 3 to the low', () => high.messages.length === 2 && low.messages.length === 3)
    assert.deepEqual(high.bodies(), ['m0', 'm1'])
    // With the high one acking, it takes what comes next.
    for (const m of high.messages) hc.ack(m)
    publish('prio.blocked', 2)
    await eventually('2 more to the high', () => high.messages.length === 4)
    await lc.checkQueue('prio.blocked')
    assert.equal(low.messages.length, 3)
    await hc.close()
    await lc.close()
  })

  test('an x-priority that is not an integer refuses the consume with 406', async () => {
    await ch.assertQueue('prio.bad')
    const c = await channel(conn)
    await expectChannelClosed(
      c,
      () => c.consume('prio.bad', () => {}, { arguments: { 'x-priority': 'high' } }),
      406,
      /invalid arg 'x-priority' for queue 'prio.bad' in vhost '\/'/
    )
  })
})
