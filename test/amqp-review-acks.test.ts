// Settling deliveries through amqplib as RabbitMQ 3.13 does (rabbit_channel collect_acks): the tag
// an ack / nack names must be outstanding, with multiple=true as well; only multiple with tag 0
// means "everything outstanding". An unknown tag is 406 PRECONDITION_FAILED and settles nothing.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel, Message } from 'amqplib'
import { Methods } from '../adapters/amqp/codec/amqp-defs.ts'
import { channel, consume, eventually, expectChannelClosed, withAmqpBroker } from './support/amqp-helpers.ts'

describe('AMQP review: delivery tags of ack / nack', { timeout: 30_000 }, () => {
  let conn: ChannelModel
  let ch: Channel
  withAmqpBroker(opened => ({ conn, ch } = opened))

  /** A queue holding n messages, and a fresh channel consuming them all (manual ack). */
  async function delivered(queue: string, n: number): Promise<{ c: Channel; ms: Message[] }> {
    await ch.assertQueue(queue)
    for (let i = 0; i < n; i++) ch.sendToQueue(queue, Buffer.from(`m${i}`))
    await eventually(`${n} in ${queue}`, async () => (await ch.checkQueue(queue)).messageCount === n)
    const c = await channel(conn)
    const inbox = await consume(c, queue)
    return { c, ms: (await inbox.waitFor(n)).slice() }
  }

  const tag = (deliveryTag: number): Message => ({ fields: { deliveryTag } }) as Message
  const ready = async (queue: string): Promise<number> => (await ch.checkQueue(queue)).messageCount

  test('ack multiple naming a tag already acked is 406 and acks none of the earlier ones', async () => {
    const { c, ms } = await delivered('acks.multiple-acked', 3)
    c.ack(ms[2] as Message)
    await expectChannelClosed(c, () => c.ack(ms[2] as Message, true), 406, /PRECONDITION_FAILED - unknown delivery tag 3/)
    // The channel closed with m0 and m1 unacked: they are back in the queue, not acked by the multiple.
    await eventually('m0 and m1 back in the queue', async () => (await ready('acks.multiple-acked')) === 2)
  })

  test('ack / nack multiple naming a tag never delivered is 406', async () => {
    const { c } = await delivered('acks.beyond', 2)
    await expectChannelClosed(c, () => c.ack(tag(99), true), 406, /unknown delivery tag 99/)
    await eventually('both back', async () => (await ready('acks.beyond')) === 2)
    const { c: c2 } = await delivered('acks.beyond-nack', 2)
    await expectChannelClosed(c2, () => c2.nack(tag(7), true, false), 406, /unknown delivery tag 7/)
    await eventually('both back', async () => (await ready('acks.beyond-nack')) === 2)
  })

  test('multiple with tag 0 settles everything outstanding, and is fine with nothing outstanding; tag 0 alone is 406', async () => {
    const { c } = await delivered('acks.all', 3)
    c.ackAll()
    c.ackAll()
    await c.checkQueue('acks.all') // a round trip: the channel is still open
    await c.close()
    assert.equal(await ready('acks.all'), 0)
    const { c: c2 } = await delivered('acks.zero', 1)
    await expectChannelClosed(c2, () => c2.ack(tag(0)), 406, /unknown delivery tag 0/)
  })

  test('in a transaction an ack multiple naming an unknown tag fails at the ack, not at commit', async () => {
    const { c, ms } = await delivered('acks.tx', 2)
    // amqplib's promise API has no tx methods; its channel's rpc does them.
    const rpc = (c as unknown as { rpc: (method: number, fields: object, expect: number) => Promise<unknown> }).rpc.bind(c)
    await rpc(Methods.TxSelect, {}, Methods.TxSelectOk)
    c.ack(ms[1] as Message)
    c.ack(ms[0] as Message)
    await expectChannelClosed(c, () => c.ack(tag(5), true), 406, /unknown delivery tag 5/)
    await eventually('both back (the transaction was never committed)', async () => (await ready('acks.tx')) === 2)
  })

  test('in a transaction a second ack of a tag fails at that ack, not at commit; a rollback gives the tags back', async () => {
    const { c, ms } = await delivered('acks.tx-twice', 2)
    const rpc = (c as unknown as { rpc: (method: number, fields: object, expect: number) => Promise<unknown> }).rpc.bind(c)
    await rpc(Methods.TxSelect, {}, Methods.TxSelectOk)
    c.ack(ms[0] as Message)
    await rpc(Methods.TxRollback, {}, Methods.TxRollbackOk)
    c.ack(ms[0] as Message) // outstanding again after the rollback
    c.ack(ms[1] as Message, true) // multiple: takes tag 1 too
    await expectChannelClosed(c, () => c.ack(ms[0] as Message), 406, /unknown delivery tag 1/)
    await eventually('both back (nothing was committed)', async () => (await ready('acks.tx-twice')) === 2)
  })
})
