// Dead lettering, quorum queue redeclaration and single active consumer through amqplib, as
// RabbitMQ 3.13 does them:
// - a dead-letter cycle is cut only when it is fully automatic: the deaths since the message was last
//   in the target queue (mc:is_death_cycle). A reject before that does not let it loop on.
// - x-dead-letter-routing-key: the copy is routed by that key alone and loses its CC header (dlx.html
//   "Dead-Lettered Effects on Messages", the Java client's DeadLetterExchange.deadLetterNewRK, and
//   RabbitMQ 3.10.8 run here); x-death routing-keys still name the CC keys.
// - a quorum queue declared again compares its own arguments, x-delivery-limit among them (406).
// - single active consumer: a higher x-priority consumer never takes over from the active one; when
//   the active one leaves, a classic queue activates the highest priority waiting, a quorum queue the
//   longest waiting (priorities for quorum SAC came with RabbitMQ 4.0).
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel, GetMessage } from 'amqplib'
import { channel, consume, eventually, expectChannelClosed, type Inbox, withAmqpBroker } from './support/amqp-helpers.ts'

const deathsOf = (m: GetMessage): Array<[string, string, number]> => (m.properties.headers?.['x-death'] ?? []).map(d => [d.queue, d.reason, d.count])

describe('AMQP review: dead-letter cycles, DLX routing key and CC, quorum redeclare, SAC priorities', { timeout: 60_000 }, () => {
  let conn: ChannelModel
  let ch: Channel
  withAmqpBroker(opened => ({ conn, ch } = opened))

  const getOne = async (queue: string, what: string): Promise<GetMessage> => {
    let got: GetMessage | false = false
    await eventually(what, async () => {
      got = await ch.get(queue, { noAck: true })
      return got !== false
    })
    return got as unknown as GetMessage
  }

  test('a reject before the message was last in the target queue does not let an automatic cycle through', async () => {
    // cyc.in -(rejected)-> cyc.a -(maxlen)-> cyc.b -(expired)-> cyc.fan -> cyc.a (a cycle since cyc.a) + cyc.seen
    await ch.assertExchange('cyc.fan', 'fanout', { durable: false })
    await ch.assertQueue('cyc.in', { arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'cyc.a' } })
    await ch.assertQueue('cyc.a', { arguments: { 'x-max-length': 1, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'cyc.b' } })
    await ch.assertQueue('cyc.b', { arguments: { 'x-message-ttl': 0, 'x-dead-letter-exchange': 'cyc.fan' } })
    await ch.assertQueue('cyc.seen')
    await ch.bindQueue('cyc.a', 'cyc.fan', '')
    await ch.bindQueue('cyc.seen', 'cyc.fan', '')

    ch.sendToQueue('cyc.in', Buffer.from('M'))
    const c = await channel(conn)
    let m: GetMessage | false = false
    await eventually('M in cyc.in', async () => {
      m = await c.get('cyc.in')
      return m !== false
    })
    c.nack(m as unknown as GetMessage, false, false)
    await eventually('M dead-lettered to cyc.a', async () => (await ch.checkQueue('cyc.a')).messageCount === 1)

    ch.sendToQueue('cyc.a', Buffer.from('N')) // M is dropped from the head (maxlen), expires in cyc.b, reaches cyc.fan
    const seen = await getOne('cyc.seen', 'M through cyc.fan')
    assert.equal(seen.content.toString(), 'M')
    assert.deepEqual(deathsOf(seen), [
      ['cyc.b', 'expired', 1],
      ['cyc.a', 'maxlen', 1],
      ['cyc.in', 'rejected', 1]
    ])
    // The copy to cyc.a was cut in the same routing that gave cyc.seen its copy: cyc.a holds N alone.
    const inA = await ch.get('cyc.a', { noAck: true })
    assert.equal(inA === false ? 'nothing' : inA.content.toString(), 'N')
    assert.equal((await ch.checkQueue('cyc.a')).messageCount, 0)
    await c.close()
  })

  test('a reject inside the cycle lets the message back in, every time (pinned: Wharf already did this)', async () => {
    await ch.assertQueue('cyc.rej', { arguments: { 'x-dead-letter-exchange': '' } }) // back to itself by its routing key
    ch.sendToQueue('cyc.rej', Buffer.from('again'))
    const c = await channel(conn)
    for (let round = 1; round <= 2; round++) {
      let m: GetMessage | false = false
      await eventually(`round ${round}: the message in cyc.rej`, async () => {
        m = await c.get('cyc.rej')
        return m !== false
      })
      c.nack(m as unknown as GetMessage, false, false)
    }
    const back = await getOne('cyc.rej', 'the message back after two rejects')
    assert.deepEqual(deathsOf(back), [['cyc.rej', 'rejected', 2]])
    await c.close()
  })

  test('with x-dead-letter-routing-key the copy is routed by that key alone and loses its CC header', async () => {
    await ch.assertExchange('dlrk.x', 'direct', { durable: false })
    await ch.assertQueue('dlrk.src', { arguments: { 'x-dead-letter-exchange': 'dlrk.x', 'x-dead-letter-routing-key': 'dead' } })
    await ch.assertQueue('dlrk.dead')
    await ch.assertQueue('dlrk.cc')
    await ch.bindQueue('dlrk.dead', 'dlrk.x', 'dead')
    await ch.bindQueue('dlrk.cc', 'dlrk.x', 'cc-key')
    // Without a DLX routing key the CC keys route the copy again; the contrast for the case above.
    await ch.assertQueue('dlrk.src-nokey', { arguments: { 'x-dead-letter-exchange': 'dlrk.x' } })

    ch.sendToQueue('dlrk.src', Buffer.from('keyed'), { CC: ['cc-key'] })
    ch.sendToQueue('dlrk.src-nokey', Buffer.from('by-cc'), { CC: ['cc-key'] })
    const c = await channel(conn)
    for (const q of ['dlrk.src', 'dlrk.src-nokey']) {
      let m: GetMessage | false = false
      await eventually(`the message in ${q}`, async () => {
        m = await c.get(q)
        return m !== false
      })
      c.nack(m as unknown as GetMessage, false, false)
    }
    const dead = await getOne('dlrk.dead', 'the copy routed by the DLX routing key')
    assert.equal(dead.content.toString(), 'keyed')
    assert.equal(dead.fields.routingKey, 'dead')
    assert.equal(dead.properties.headers?.CC, undefined)
    assert.deepEqual(dead.properties.headers?.['x-death']?.[0]?.['routing-keys'], ['dlrk.src', 'cc-key'])

    const byCc = await getOne('dlrk.cc', 'the copy without a DLX routing key, routed by its CC key')
    assert.equal(byCc.content.toString(), 'by-cc')
    // Both copies were routed before either reached a consumer: the keyed one did not go to dlrk.cc.
    assert.equal((await ch.checkQueue('dlrk.cc')).messageCount, 0)
    assert.equal((await ch.checkQueue('dlrk.dead')).messageCount, 0)
    await c.close()
  })

  test('a quorum queue declared again with another x-delivery-limit (or none) is 406 inequivalent arg', async () => {
    const args = { 'x-queue-type': 'quorum', 'x-delivery-limit': 5, 'x-quorum-initial-group-size': 3 }
    await ch.assertQueue('qq.eq', { durable: true, arguments: args })
    await ch.assertQueue('qq.eq', { durable: true, arguments: args }) // the same: fine
    const refused: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...args, 'x-delivery-limit': 6 }, /inequivalent arg 'x-delivery-limit' for queue 'qq.eq' in vhost '\/'/],
      [{ 'x-queue-type': 'quorum', 'x-quorum-initial-group-size': 3 }, /inequivalent arg 'x-delivery-limit'/],
      [{ ...args, 'x-quorum-initial-group-size': 5 }, /inequivalent arg 'x-quorum-initial-group-size'/]
    ]
    for (const [arguments_, text] of refused) {
      const c = await channel(conn)
      await expectChannelClosed(c, () => c.assertQueue('qq.eq', { durable: true, arguments: arguments_ }), 406, text)
    }
    assert.equal((await ch.checkQueue('qq.eq')).messageCount, 0)
  })

  /** Attaches A (0), B (0), C (10), D (10) in that order; each delivery is checked to go to `expect` alone. */
  const sacRound = async (queue: string, arguments_: Record<string, unknown>): Promise<{ order: string[] }> => {
    await ch.assertQueue(queue, { durable: true, arguments: { ...arguments_, 'x-single-active-consumer': true } })
    const c = await channel(conn)
    const inboxes = new Map<string, Inbox>()
    for (const [name, priority] of [
      ['A', 0],
      ['B', 0],
      ['C', 10],
      ['D', 10]
    ] as const) {
      inboxes.set(name, await consume(c, queue, { noAck: true, priority }))
    }
    const order: string[] = []
    for (let round = 0; round < 3; round++) {
      ch.sendToQueue(queue, Buffer.from(`m${round}`))
      let receiver: string | undefined
      await eventually(`round ${round}: a delivery`, () => {
        receiver = [...inboxes].find(([, inbox]) => inbox.messages.length > 0)?.[0]
        return receiver !== undefined
      })
      await c.checkQueue(queue) // a round trip: a second delivery would be here by now
      assert.equal(
        [...inboxes.values()].reduce((n, inbox) => n + inbox.messages.length, 0),
        1
      )
      const name = receiver as string
      order.push(name)
      await c.cancel((inboxes.get(name) as Inbox).consumerTag)
      inboxes.delete(name)
    }
    await c.close()
    return { order }
  }

  test('classic queue SAC: a higher priority does not take over, but the highest priority waiting is next', async () => {
    const { order } = await sacRound('sac.classic', {})
    assert.deepEqual(order, ['A', 'C', 'D'])
  })

  test('quorum queue SAC (3.13): priorities are ignored, the longest waiting is next (pinned: Wharf already did this)', async () => {
    const { order } = await sacRound('sac.quorum', { 'x-queue-type': 'quorum' })
    assert.deepEqual(order, ['A', 'B', 'C'])
  })
})
