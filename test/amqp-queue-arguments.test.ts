// Queue arguments through amqplib: x-message-ttl, per-message expiration, x-expires,
// x-max-length(-bytes) with x-overflow, dead-lettering with x-death, x-max-priority.
// Times are short real times (the model's own tests use a manual clock).
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib'
import type { TestBroker } from './support/test-broker.ts'
import { channel, consume, eventually, expectChannelClosed, withAmqpBroker } from './support/amqp-helpers.ts'

describe('AMQP queue arguments', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let conn: ChannelModel
  let ch: Channel
  withAmqpBroker(opened => ({ broker, conn, ch } = opened))

  const count = async (q: string): Promise<number> => (await ch.checkQueue(q)).messageCount
  async function bodies(q: string): Promise<string[]> {
    const out: string[] = []
    for (let m = await ch.get(q, { noAck: true }); m !== false; m = await ch.get(q, { noAck: true })) out.push(m.content.toString())
    return out
  }

  test('x-message-ttl and per-message expiration: expired messages are never delivered', async () => {
    await ch.assertQueue('ttl', { arguments: { 'x-message-ttl': 150 } })
    ch.sendToQueue('ttl', Buffer.from('short-lived'))
    ch.sendToQueue('ttl', Buffer.from('shorter'), { expiration: '50' })
    assert.equal(await count('ttl'), 2)
    await eventually('expiry', async () => (await count('ttl')) === 0, 3000)
    await ch.assertQueue('per-message')
    ch.sendToQueue('per-message', Buffer.from('expires'), { expiration: '60' })
    ch.sendToQueue('per-message', Buffer.from('stays'))
    await eventually('the 60 ms message to expire', async () => (await count('per-message')) === 1, 3000)
    assert.deepEqual(await bodies('per-message'), ['stays'])
    const bad = await channel(conn)
    await expectChannelClosed(
      bad,
      async () => {
        bad.sendToQueue('per-message', Buffer.from('x'), { expiration: 'soon' })
        await bad.checkQueue('per-message')
      },
      406,
      /invalid expiration 'soon'/
    )
  })

  test('x-expires deletes a queue nobody used for that long', async () => {
    await ch.assertQueue('short-lived-queue', { arguments: { 'x-expires': 200 } })
    await eventually('the queue to expire', () => !broker.node.broker.vhost('/')?.queues.has('short-lived-queue'), 3000)
    const probe = await channel(conn)
    await expectChannelClosed(probe, () => probe.checkQueue('short-lived-queue'), 404)
  })

  test('x-max-length drops from the head; x-max-length-bytes counts body bytes; reject-publish refuses (nack)', async () => {
    await ch.assertQueue('len', { arguments: { 'x-max-length': 2 } })
    for (const b of ['1', '2', '3']) ch.sendToQueue('len', Buffer.from(b))
    assert.deepEqual(await bodies('len'), ['2', '3'])
    await ch.assertQueue('bytes', { arguments: { 'x-max-length-bytes': 10 } })
    for (const b of ['aaaa', 'bbbb', 'cccc']) ch.sendToQueue('bytes', Buffer.from(b))
    assert.deepEqual(await bodies('bytes'), ['bbbb', 'cccc'])
    await ch.assertQueue('refusing', { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } })
    const cc: ConfirmChannel = await conn.createConfirmChannel()
    const outcome = (b: string): Promise<string> =>
      new Promise(resolve => {
        cc.sendToQueue('refusing', Buffer.from(b), {}, err => resolve(err == null ? 'ack' : 'nack'))
      })
    assert.deepEqual(await Promise.all([outcome('first'), outcome('second')]), ['ack', 'nack'])
    assert.deepEqual(await bodies('refusing'), ['first'])
    await cc.close()
  })

  test('dead-lettering: rejected, expired and dropped messages go to the DLX with x-death', async () => {
    await ch.assertExchange('dlx', 'direct')
    await ch.assertQueue('dead')
    await ch.bindQueue('dead', 'dlx', 'dead-key')
    await ch.assertQueue('work', {
      arguments: { 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-routing-key': 'dead-key', 'x-message-ttl': 5000, 'x-max-length': 3 }
    })
    ch.sendToQueue('work', Buffer.from('to-reject'), { headers: { keep: 'me' } })
    const c = await channel(conn)
    const inbox = await consume(c, 'work')
    const [m] = await inbox.waitFor(1)
    assert.ok(m)
    c.reject(m, false)
    await c.close()
    for (const b of ['a', 'b', 'c', 'd']) ch.sendToQueue('work', Buffer.from(b)) // 'a' is dropped (maxlen)
    ch.sendToQueue('work', Buffer.from('never-delivered'))
    await eventually('two dead letters', async () => (await count('dead')) === 3, 3000)
    const dead = []
    for (let d = await ch.get('dead', { noAck: true }); d !== false; d = await ch.get('dead', { noAck: true })) dead.push(d)
    const summary = dead.map(d => {
      const death = (d.properties.headers?.['x-death'] as unknown as Array<Record<string, unknown>>)[0] as Record<string, unknown>
      return [d.content.toString(), death.reason, death.queue, death.count, death.exchange, death['routing-keys'], d.fields.exchange, d.fields.routingKey]
    })
    assert.deepEqual(summary, [
      ['to-reject', 'rejected', 'work', 1, '', ['work'], 'dlx', 'dead-key'],
      ['a', 'maxlen', 'work', 1, '', ['work'], 'dlx', 'dead-key'],
      ['b', 'maxlen', 'work', 1, '', ['work'], 'dlx', 'dead-key']
    ])
    const first = dead[0]
    assert.equal(first?.properties.headers?.keep, 'me')
    assert.equal(first?.properties.headers?.['x-first-death-reason'], 'rejected')
    assert.ok(typeof (first?.properties.headers?.['x-death'] as unknown as Array<Record<string, unknown>>)[0]?.time === 'object', 'time is an AMQP timestamp')
    await ch.deleteQueue('work')

    await ch.assertQueue('expiring', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead', 'x-message-ttl': 50 } })
    ch.sendToQueue('expiring', Buffer.from('timed-out'), { expiration: '40' })
    await eventually('the expired message dead-lettered', async () => (await count('dead')) === 1, 3000)
    const expired = await ch.get('dead', { noAck: true })
    assert.ok(expired !== false)
    const death = (expired.properties.headers?.['x-death'] as unknown as Array<Record<string, unknown>>)[0]
    assert.deepEqual([death?.reason, death?.['original-expiration'], expired.properties.expiration], ['expired', '40', undefined])
  })

  test('x-max-priority: higher priorities are delivered first', async () => {
    await ch.assertQueue('prio', { arguments: { 'x-max-priority': 10 } })
    for (const [b, p] of [
      ['low', 1],
      ['high', 9],
      ['none', 0],
      ['mid', 5],
      ['over', 200]
    ] as const)
      ch.sendToQueue('prio', Buffer.from(b), { priority: p })
    // a priority above x-max-priority counts as the maximum, as in RabbitMQ
    assert.deepEqual(await bodies('prio'), ['over', 'high', 'mid', 'low', 'none'])
  })

  test('x-single-active-consumer: one consumer gets everything; the next takes over when it cancels', async () => {
    await ch.assertQueue('single', { arguments: { 'x-single-active-consumer': true } })
    const c = await channel(conn)
    const first = await consume(c, 'single', { noAck: true })
    const second = await consume(c, 'single', { noAck: true })
    for (const b of ['1', '2', '3']) ch.sendToQueue('single', Buffer.from(b))
    await first.waitFor(3)
    await c.cancel(first.consumerTag)
    ch.sendToQueue('single', Buffer.from('4'))
    await second.waitFor(1)
    assert.deepEqual([first.bodies(), second.bodies()], [['1', '2', '3'], ['4']])
    await c.close()
  })

  test('invalid arguments are 406: dead-letter routing key without exchange, negative ttl, priority over 255', async () => {
    for (const [args, text] of [
      [{ 'x-dead-letter-routing-key': 'k' }, /routing_key_but_no_dlx_defined/],
      [{ 'x-message-ttl': -1 }, /invalid arg 'x-message-ttl'/],
      [{ 'x-max-priority': 256 }, /invalid arg 'x-max-priority'/],
      [{ 'x-overflow': 'explode' }, /invalid arg 'x-overflow'/],
      [{ 'x-expires': 0 }, /invalid arg 'x-expires'/]
    ] as const) {
      const c = await channel(conn)
      await expectChannelClosed(c, () => c.assertQueue('invalid-args', { arguments: args }), 406, text)
    }
  })
})
