// TTL 0 through amqplib, as RabbitMQ documents it (ttl.html: "Setting the TTL to 0 causes messages
// to be expired upon reaching a queue unless they can be delivered to a consumer immediately"), for
// x-message-ttl 0 and for a per-message expiration of '0'. Wharf expired them even when a consumer
// with credit was waiting.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel, GetMessage } from 'amqplib'
import { channel, consume, eventually, withAmqpBroker } from './support/amqp-helpers.ts'

describe('AMQP review: TTL 0', { timeout: 30_000 }, () => {
  let conn: ChannelModel
  let ch: Channel
  withAmqpBroker(async opened => {
    ;({ conn, ch } = opened)
    await ch.assertExchange('ttl0.dlx', 'fanout')
    await ch.assertQueue('ttl0.dead')
    await ch.bindQueue('ttl0.dead', 'ttl0.dlx', '')
  })

  async function deadLettered(): Promise<GetMessage> {
    let m: GetMessage | false = false
    await eventually('a dead-lettered message', async () => (m = await ch.get('ttl0.dead', { noAck: true })) !== false, 3000)
    return m as unknown as GetMessage
  }

  test("expiration '0' reaches a consumer that can take it at once", async () => {
    await ch.assertQueue('ttl0.per-message')
    const c = await channel(conn)
    const inbox = await consume(c, 'ttl0.per-message', { noAck: true })
    c.sendToQueue('ttl0.per-message', Buffer.from('now'), { expiration: '0' })
    assert.deepEqual(
      (await inbox.waitFor(1)).map(m => m.content.toString()),
      ['now']
    )
    await c.close()
  })

  test('x-message-ttl 0 reaches a consumer that can take it at once (manual ack too)', async () => {
    await ch.assertQueue('ttl0.queue', { arguments: { 'x-message-ttl': 0 } })
    const c = await channel(conn)
    const inbox = await consume(c, 'ttl0.queue')
    c.sendToQueue('ttl0.queue', Buffer.from('a'))
    c.sendToQueue('ttl0.queue', Buffer.from('b'))
    const got = await inbox.waitFor(2)
    assert.deepEqual(
      got.map(m => m.content.toString()),
      ['a', 'b']
    )
    for (const m of got) c.ack(m)
    await c.close()
    assert.equal((await ch.checkQueue('ttl0.queue')).messageCount, 0)
  })

  test('with nobody to take it, a TTL 0 message is not queued: it expires at once (dead-lettered as expired)', async () => {
    await ch.assertQueue('ttl0.idle', { arguments: { 'x-message-ttl': 0, 'x-dead-letter-exchange': 'ttl0.dlx' } })
    ch.sendToQueue('ttl0.idle', Buffer.from('nobody'))
    assert.equal((await ch.checkQueue('ttl0.idle')).messageCount, 0)
    const dead = await deadLettered()
    assert.equal(dead.content.toString(), 'nobody')
    const [death] = dead.properties.headers?.['x-death'] ?? []
    assert.equal(death?.reason, 'expired')
    assert.equal(death?.queue, 'ttl0.idle')
  })

  test('a consumer without credit (prefetch full) does not get it later: it expired when it arrived', async () => {
    await ch.assertQueue('ttl0.busy', { arguments: { 'x-dead-letter-exchange': 'ttl0.dlx' } })
    const c = await channel(conn)
    await c.prefetch(1)
    const inbox = await consume(c, 'ttl0.busy')
    c.sendToQueue('ttl0.busy', Buffer.from('first'))
    const [first] = await inbox.waitFor(1)
    c.sendToQueue('ttl0.busy', Buffer.from('late'), { expiration: '0' })
    assert.equal((await deadLettered()).content.toString(), 'late')
    c.ack(first as never)
    await c.checkQueue('ttl0.busy') // a round trip after the ack: a delivery it freed would be out by now
    assert.deepEqual(inbox.bodies(), ['first'])
    await c.close()
  })
})
