// RabbitMQ 3.13 behaviours through amqplib that Wharf already had and no other test pinned:
// exclusivity of get / purge / delete / passive declare from another connection (405) while
// publishing to the queue stays open to all; confirm.select on a tx channel (406); a mandatory
// return before its confirm; nack multiple with requeue and basic.recover keep the original order;
// an alternate exchange that routes nowhere still returns a mandatory message; headers any-with-x;
// reject-publish-dlx nacks and dead-letters as maxlen; deleting an exchange drops the e2e bindings
// it is the destination of.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel, ConfirmChannel, Message } from 'amqplib'
import { channel, consume, eventually, expectChannelClosed, withAmqpBroker } from './support/amqp-helpers.ts'
import { Methods } from '../adapters/amqp/codec/amqp-defs.ts'

type Rpc = (method: number, fields: object, expect: number) => Promise<unknown>
const rpcOf = (c: Channel): Rpc => (c as unknown as { rpc: Rpc }).rpc.bind(c)

/** Publishes on a confirm channel; resolves with the confirm's outcome. */
const confirmed = (c: ConfirmChannel, exchange: string, key: string, body: string, options = {}): Promise<'ack' | 'nack'> =>
  new Promise(resolve => c.publish(exchange, key, Buffer.from(body), options, err => resolve(err == null ? 'ack' : 'nack')))

describe('AMQP review: semantics as RabbitMQ', { timeout: 30_000 }, () => {
  let conn: ChannelModel
  let ch: Channel
  let other: ChannelModel
  withAmqpBroker(async opened => {
    ;({ conn, ch } = opened)
    other = await opened.connect()
  })

  test("another connection's get, purge, delete and passive declare of an exclusive queue are 405; its publishes reach it", async () => {
    await ch.assertQueue('sem.exclusive', { exclusive: true })
    const o = await channel(other)
    o.sendToQueue('sem.exclusive', Buffer.from('from-other'))
    await eventually('the message from the other connection', async () => (await ch.checkQueue('sem.exclusive')).messageCount === 1)
    for (const op of [
      (c: Channel) => c.get('sem.exclusive'),
      (c: Channel) => c.purgeQueue('sem.exclusive'),
      (c: Channel) => c.deleteQueue('sem.exclusive'),
      (c: Channel) => c.checkQueue('sem.exclusive')
    ]) {
      const c = await channel(other)
      await expectChannelClosed(c, () => op(c), 405, /RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'sem.exclusive'/)
    }
    assert.equal((await ch.checkQueue('sem.exclusive')).messageCount, 1)
  })

  test('confirm.select on a transactional channel is 406', async () => {
    const c = await channel(conn)
    await rpcOf(c)(Methods.TxSelect, {}, Methods.TxSelectOk)
    await expectChannelClosed(
      c,
      () => rpcOf(c)(Methods.ConfirmSelect, { nowait: false }, Methods.ConfirmSelectOk),
      406,
      /cannot switch from tx to confirm mode/
    )
  })

  test('an unroutable mandatory message is returned before it is confirmed; so is one its alternate exchange cannot route', async () => {
    await ch.assertExchange('sem.ae-empty', 'fanout')
    await ch.assertExchange('sem.with-ae', 'direct', { alternateExchange: 'sem.ae-empty' })
    const c = await conn.createConfirmChannel()
    const events: string[] = []
    c.on('return', m => events.push(`return ${m.content.toString()} ${String((m.fields as { replyCode?: number }).replyCode)}`))
    events.push(`confirm ${await confirmed(c, 'amq.direct', 'nobody', 'a', { mandatory: true })}`)
    events.push(`confirm ${await confirmed(c, 'sem.with-ae', 'k', 'b', { mandatory: true })}`)
    assert.deepEqual(events, ['return a 312', 'confirm ack', 'return b 312', 'confirm ack'])
    await c.close()
  })

  test('nack multiple with requeue redelivers in the original order; basic.recover too', async () => {
    await ch.assertQueue('sem.order')
    for (let i = 0; i < 4; i++) ch.sendToQueue('sem.order', Buffer.from(`m${i}`))
    const c = await channel(conn)
    const inbox = await consume(c, 'sem.order')
    const first = await inbox.waitFor(4)
    c.nack(first[2] as Message, true, true)
    const again = (await inbox.waitFor(7)).slice(4)
    assert.deepEqual(
      again.map(m => [m.content.toString(), m.fields.redelivered]),
      [
        ['m0', true],
        ['m1', true],
        ['m2', true]
      ]
    )
    await c.recover()
    const recovered = (await inbox.waitFor(11)).slice(7)
    assert.deepEqual(
      recovered.map(m => m.content.toString()),
      ['m0', 'm1', 'm2', 'm3']
    )
    assert.ok(recovered.every(m => m.fields.redelivered))
    await c.close()
  })

  test('headers exchange: any-with-x matches on x- headers, all ignores them', async () => {
    await ch.assertExchange('sem.headers', 'headers')
    await ch.assertQueue('sem.any-with-x')
    await ch.bindQueue('sem.any-with-x', 'sem.headers', '', { 'x-match': 'any-with-x', 'x-tenant': 'a' })
    await ch.assertQueue('sem.all')
    await ch.bindQueue('sem.all', 'sem.headers', '', { 'x-match': 'all', 'x-tenant': 'b', kind: 'k' })
    ch.publish('sem.headers', '', Buffer.from('x'), { headers: { 'x-tenant': 'a', kind: 'k' } })
    await eventually(
      'a copy in both queues',
      async () => (await ch.checkQueue('sem.any-with-x')).messageCount === 1 && (await ch.checkQueue('sem.all')).messageCount === 1
    )
  })

  test('x-overflow reject-publish-dlx: the refused publish is nacked and dead-lettered with reason maxlen', async () => {
    await ch.assertExchange('sem.rpd-dlx', 'fanout')
    await ch.assertQueue('sem.rpd-dead')
    await ch.bindQueue('sem.rpd-dead', 'sem.rpd-dlx', '')
    await ch.assertQueue('sem.rpd', { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx', 'x-dead-letter-exchange': 'sem.rpd-dlx' } })
    const c = await conn.createConfirmChannel()
    assert.equal(await confirmed(c, '', 'sem.rpd', 'kept'), 'ack')
    assert.equal(await confirmed(c, '', 'sem.rpd', 'refused'), 'nack')
    let dead: Message | false = false
    await eventually('the dead-lettered copy', async () => (dead = await ch.get('sem.rpd-dead', { noAck: true })) !== false)
    const m = dead as unknown as Message
    assert.equal(m.content.toString(), 'refused')
    const [death] = m.properties.headers?.['x-death'] ?? []
    assert.equal(death?.reason, 'maxlen')
    assert.equal(death?.queue, 'sem.rpd')
    assert.equal(death?.count, 1)
    await c.close()
  })

  test('deleting an exchange drops the exchange-to-exchange bindings it is the destination of', async () => {
    await ch.assertExchange('sem.src', 'fanout')
    await ch.assertExchange('sem.dst', 'fanout')
    await ch.bindExchange('sem.dst', 'sem.src', '')
    const c = await channel(conn)
    await expectChannelClosed(c, () => c.deleteExchange('sem.src', { ifUnused: true }), 406, /exchange 'sem.src' in vhost '\/' in use/)
    await ch.deleteExchange('sem.dst')
    await ch.deleteExchange('sem.src', { ifUnused: true }) // no binding left: not in use
    const probe = await channel(conn)
    await expectChannelClosed(probe, () => probe.checkExchange('sem.src'), 404)
  })
})
