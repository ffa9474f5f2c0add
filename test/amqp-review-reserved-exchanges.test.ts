// The amq.* prefix through amqplib, as RabbitMQ 3.13 applies it: it refuses new exchanges only
// (rabbit_channel checks the name after the lookup), so redeclaring a built-in exchange with its own
// properties — what many clients do before binding to amq.topic — is declare-ok, and a redeclare
// that differs is the usual 406.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChannelModel } from 'amqplib'
import { channel, consume, expectChannelClosed, withAmqpBroker } from './support/amqp-helpers.ts'

describe('AMQP review: reserved amq.* exchanges', { timeout: 30_000 }, () => {
  let conn: ChannelModel
  withAmqpBroker(opened => ({ conn } = opened))

  test('an equivalent redeclare of every built-in exchange is declare-ok, and the exchange still routes', async () => {
    const ch = await channel(conn)
    const builtins: Array<[string, string]> = [
      ['amq.direct', 'direct'],
      ['amq.fanout', 'fanout'],
      ['amq.topic', 'topic'],
      ['amq.headers', 'headers'],
      ['amq.match', 'headers']
    ]
    for (const [name, type] of builtins) assert.deepEqual(await ch.assertExchange(name, type, { durable: true }), { exchange: name })
    const { queue } = await ch.assertQueue('', { exclusive: true })
    await ch.bindQueue(queue, 'amq.topic', 'sensors.#')
    const inbox = await consume(ch, queue, { noAck: true })
    ch.publish('amq.topic', 'sensors.t1', Buffer.from('21.5'))
    assert.deepEqual(
      (await inbox.waitFor(1)).map(m => m.content.toString()),
      ['21.5']
    )
  })

  test('a redeclare of a built-in exchange that differs is 406; a new amq.* name is still 403', async () => {
    const c1 = await channel(conn)
    await expectChannelClosed(
      c1,
      () => c1.assertExchange('amq.topic', 'topic', { durable: false }),
      406,
      /inequivalent arg 'durable' for exchange 'amq.topic' in vhost '\/'/
    )
    const c2 = await channel(conn)
    await expectChannelClosed(c2, () => c2.assertExchange('amq.direct', 'fanout'), 406, /inequivalent arg 'type'/)
    const c3 = await channel(conn)
    await expectChannelClosed(c3, () => c3.assertExchange('amq.mine', 'topic'), 403, /reserved prefix 'amq.\*'/)
    const c4 = await channel(conn)
    await expectChannelClosed(c4, () => c4.deleteExchange('amq.topic'), 403)
  })
})
