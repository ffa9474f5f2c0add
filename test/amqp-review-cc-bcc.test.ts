// Sender-selected distribution through amqplib (its CC / BCC publish options), as RabbitMQ 3.13
// does it (sender-selected.html): the CC and BCC keys route like the routing key, at every exchange
// on the way; BCC is taken out of the delivered message, CC is not; each queue gets one copy.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib'
import { channel, consume, eventually, expectChannelClosed, withAmqpBroker } from './support/amqp-helpers.ts'
import { Methods } from '../adapters/amqp/codec/amqp-defs.ts'

describe('AMQP review: CC and BCC', { timeout: 30_000 }, () => {
  let conn: ChannelModel
  let ch: Channel
  withAmqpBroker(opened => ({ conn, ch } = opened))

  async function queuesOn(exchange: string, names: string[]): Promise<void> {
    for (const q of names) {
      await ch.assertQueue(q)
      await ch.bindQueue(q, exchange, q)
    }
  }
  const ready = async (q: string): Promise<number> => (await ch.checkQueue(q)).messageCount

  test('CC and BCC keys route on a direct exchange; BCC is not delivered, CC is', async () => {
    await queuesOn('amq.direct', ['cc.main', 'cc.copy', 'cc.blind'])
    const c = await channel(conn)
    const inboxes = await Promise.all(['cc.main', 'cc.copy', 'cc.blind'].map(q => consume(c, q, { noAck: true })))
    c.publish('amq.direct', 'cc.main', Buffer.from('x'), { CC: ['cc.copy'], BCC: 'cc.blind', headers: { keep: 'me' } })
    for (const inbox of inboxes) {
      const [m] = await inbox.waitFor(1)
      assert.equal(m?.fields.routingKey, 'cc.main', 'the delivery names the routing key published with')
      assert.deepEqual(m?.properties.headers, { keep: 'me', CC: ['cc.copy'] })
    }
    await c.close()
  })

  test('a queue matched by the key and a CC key gets one copy; the default exchange and topic patterns take CC keys too', async () => {
    await ch.assertQueue('cc.direct-target')
    await ch.assertExchange('cc.topic', 'topic')
    await ch.assertQueue('cc.sensors')
    await ch.bindQueue('cc.sensors', 'cc.topic', 'sensors.#')
    await ch.bindQueue('cc.sensors', 'cc.topic', 'alarms.*')
    ch.publish('cc.topic', 'sensors.t1', Buffer.from('once'), { CC: ['alarms.fire', 'sensors.t2'] })
    ch.publish('', 'nobody-by-this-name', Buffer.from('by-cc'), { CC: ['cc.direct-target'] })
    await eventually('the CC copy on the default exchange', async () => (await ready('cc.direct-target')) === 1)
    assert.equal(await ready('cc.sensors'), 1)
  })

  test('CC keys are followed through exchange-to-exchange bindings, and count for mandatory', async () => {
    await ch.assertExchange('cc.front', 'direct')
    await ch.assertExchange('cc.back', 'direct')
    await ch.bindExchange('cc.back', 'cc.front', 'via')
    await ch.assertQueue('cc.behind')
    await ch.bindQueue('cc.behind', 'cc.back', 'deep')
    const c: ConfirmChannel = await conn.createConfirmChannel()
    c.on('error', () => {})
    const returned: string[] = []
    c.on('return', m => returned.push(m.content.toString()))
    await new Promise<void>((resolve, reject) =>
      c.publish('cc.front', 'via', Buffer.from('deep'), { CC: ['deep'], mandatory: true }, err => (err == null ? resolve() : reject(err)))
    )
    await new Promise<void>((resolve, reject) =>
      c.publish('cc.front', 'nowhere', Buffer.from('routed-by-cc'), { CC: ['via', 'deep'], mandatory: true }, err => (err == null ? resolve() : reject(err)))
    )
    c.publish('cc.front', 'nowhere', Buffer.from('unroutable'), { CC: ['via'], mandatory: true }) // cc.back has no 'nowhere' nor 'via'
    await c.waitForConfirms()
    assert.deepEqual(returned, ['unroutable'])
    assert.equal(await ready('cc.behind'), 2)
    await c.close()
  })

  test('a CC header that is not an array is 406, as RabbitMQ refuses it', async () => {
    const c = await channel(conn)
    // amqplib always sends an array for its CC option; a raw header may be anything.
    await expectChannelClosed(
      c,
      async () => {
        c.publish('amq.direct', 'cc.main', Buffer.from('x'), { headers: { CC: 'cc.copy' } })
        await c.checkQueue('cc.main')
      },
      406,
      /invalid message: header 'CC'/
    )
  })

  test('dead-lettered: x-death routing-keys name the CC keys but not the BCC ones, and the DLX routes by them again', async () => {
    await ch.assertExchange('cc.dlx', 'direct')
    await ch.assertQueue('cc.dead-by-key')
    await ch.bindQueue('cc.dead-by-key', 'cc.dlx', 'cc.work')
    await ch.assertQueue('cc.dead-by-cc')
    await ch.bindQueue('cc.dead-by-cc', 'cc.dlx', 'cc.audit')
    await ch.assertQueue('cc.work', { arguments: { 'x-dead-letter-exchange': 'cc.dlx' } })
    ch.sendToQueue('cc.work', Buffer.from('doomed'), { CC: ['cc.audit'], BCC: ['cc.hidden'] })
    let m: Awaited<ReturnType<Channel['get']>> = false
    await eventually('the message in cc.work', async () => (m = await ch.get('cc.work')) !== false)
    ch.nack(m as never, false, false)
    await eventually('a copy in both dead-letter queues', async () => (await ready('cc.dead-by-key')) === 1 && (await ready('cc.dead-by-cc')) === 1)
    const dead = await ch.get('cc.dead-by-cc', { noAck: true })
    assert.ok(dead !== false)
    const [death] = dead.properties.headers?.['x-death'] ?? []
    assert.deepEqual(death?.['routing-keys'], ['cc.work', 'cc.audit'])
    assert.equal(death?.reason, 'rejected')
  })

  test('in a transaction the CC keys route at commit', async () => {
    await queuesOn('amq.direct', ['cc.tx-a', 'cc.tx-b'])
    const c = await channel(conn)
    const rpc = (c as unknown as { rpc: (method: number, fields: object, expect: number) => Promise<unknown> }).rpc.bind(c)
    await rpc(Methods.TxSelect, {}, Methods.TxSelectOk)
    c.publish('amq.direct', 'cc.tx-a', Buffer.from('x'), { BCC: ['cc.tx-b'] })
    await c.checkQueue('cc.tx-b')
    assert.equal(await ready('cc.tx-b'), 0)
    await rpc(Methods.TxCommit, {}, Methods.TxCommitOk)
    assert.equal(await ready('cc.tx-a'), 1)
    assert.equal(await ready('cc.tx-b'), 1)
    const m = await ch.get('cc.tx-b', { noAck: true })
    assert.ok(m !== false)
    assert.equal(m.properties.headers?.BCC, undefined)
    await c.close()
  })
})
