// AMQP exchange and queue classes through amqplib against the listening broker: declare
// variants, routing by every exchange type, exchange-to-exchange bindings, alternate exchanges,
// and the errors RabbitMQ gives (404, 405, 406, 403 as channel closes, 503 as a connection close).
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel } from 'amqplib'
import type { TestBroker } from './support/test-broker.ts'
import { channel, connect, consume, eventually, expectChannelClosed, expectConnectionClosed, withAmqpBroker } from './support/amqp-helpers.ts'
import { adminFetch } from './support/admin-http.ts'

describe('AMQP exchanges and queues', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let conn: ChannelModel
  let ch: Channel
  let other: ChannelModel
  withAmqpBroker(async opened => {
    ;({ broker, conn, ch } = opened)
    other = await opened.connect()
  })

  async function fresh(): Promise<Channel> {
    return await channel(conn)
  }

  async function drain(queue: string): Promise<string[]> {
    const out: string[] = []
    for (;;) {
      const m = await ch.get(queue, { noAck: true })
      if (m === false) return out
      out.push(m.content.toString())
    }
  }

  test('the default exchange and amq.* exist in every vhost; publishing to the default exchange routes by queue name', async () => {
    for (const x of ['amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match']) await ch.checkExchange(x)
    await ch.assertQueue('by-name')
    ch.sendToQueue('by-name', Buffer.from('hello'))
    ch.publish('', 'no-such-queue', Buffer.from('dropped'))
    await eventually('the message to arrive', async () => (await ch.checkQueue('by-name')).messageCount === 1)
    assert.deepEqual(await drain('by-name'), ['hello'])
  })

  test('direct, fanout, topic and headers (x-match all/any) route by their rules', async () => {
    await ch.assertExchange('ex.direct', 'direct')
    await ch.assertExchange('ex.fanout', 'fanout')
    await ch.assertExchange('ex.topic', 'topic')
    await ch.assertExchange('ex.headers', 'headers')
    for (const q of ['d', 'f1', 'f2', 't', 'h-all', 'h-any']) await ch.assertQueue(q)
    await ch.bindQueue('d', 'ex.direct', 'key')
    await ch.bindQueue('f1', 'ex.fanout', '')
    await ch.bindQueue('f2', 'ex.fanout', 'whatever')
    await ch.bindQueue('t', 'ex.topic', 'sensor.*.temp')
    await ch.bindQueue('t', 'ex.topic', 'alarm.#')
    await ch.bindQueue('h-all', 'ex.headers', '', { 'x-match': 'all', site: 'a', level: 2 })
    await ch.bindQueue('h-any', 'ex.headers', '', { 'x-match': 'any', site: 'a', level: 2 })
    ch.publish('ex.direct', 'key', Buffer.from('d1'))
    ch.publish('ex.direct', 'other', Buffer.from('d-miss'))
    ch.publish('ex.fanout', 'x', Buffer.from('f'))
    for (const k of ['sensor.1.temp', 'sensor.1.2.temp', 'alarm', 'alarm.fire.big']) ch.publish('ex.topic', k, Buffer.from(k))
    ch.publish('ex.headers', '', Buffer.from('both'), { headers: { site: 'a', level: 2 } })
    ch.publish('ex.headers', '', Buffer.from('one'), { headers: { site: 'a', level: 3 } })
    await ch.checkQueue('d') // a round trip: the publishes above were handled
    assert.deepEqual(await drain('d'), ['d1'])
    assert.deepEqual(await drain('f1'), ['f'])
    assert.deepEqual(await drain('f2'), ['f'])
    assert.deepEqual(await drain('t'), ['sensor.1.temp', 'alarm', 'alarm.fire.big'])
    assert.deepEqual(await drain('h-all'), ['both'])
    assert.deepEqual(await drain('h-any'), ['both', 'one'])
  })

  test('exchange-to-exchange bindings and unbinding; alternate-exchange takes what an exchange cannot route', async () => {
    await ch.assertExchange('e2e.src', 'topic')
    await ch.assertExchange('e2e.dst', 'fanout')
    await ch.assertExchange('ae.catch', 'fanout')
    await ch.assertExchange('with-ae', 'direct', { alternateExchange: 'ae.catch' })
    await ch.assertQueue('e2e.q')
    await ch.assertQueue('ae.q')
    await ch.bindExchange('e2e.dst', 'e2e.src', 'a.#')
    await ch.bindQueue('e2e.q', 'e2e.dst', '')
    await ch.bindQueue('ae.q', 'ae.catch', '')
    ch.publish('e2e.src', 'a.b', Buffer.from('through'))
    ch.publish('e2e.src', 'b', Buffer.from('not-matching'))
    ch.publish('with-ae', 'unbound-key', Buffer.from('to-ae'))
    await ch.checkQueue('e2e.q')
    assert.deepEqual(await drain('e2e.q'), ['through'])
    assert.deepEqual(await drain('ae.q'), ['to-ae'])
    await ch.unbindExchange('e2e.dst', 'e2e.src', 'a.#')
    ch.publish('e2e.src', 'a.b', Buffer.from('after-unbind'))
    await ch.checkQueue('e2e.q')
    assert.deepEqual(await drain('e2e.q'), [])
  })

  test('exchange.declare errors: passive on a missing one 404, other type 406, amq.* prefix 403, default exchange 403', async () => {
    const c1 = await fresh()
    await expectChannelClosed(c1, () => c1.checkExchange('missing-x'), 404, /NOT_FOUND - no exchange 'missing-x' in vhost '\/'/)
    await ch.assertExchange('typed', 'direct')
    const c2 = await fresh()
    await expectChannelClosed(
      c2,
      () => c2.assertExchange('typed', 'fanout'),
      406,
      /PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'typed' in vhost '\/': received 'fanout' but current is 'direct'/
    )
    const c3 = await fresh()
    await expectChannelClosed(c3, () => c3.assertExchange('typed', 'direct', { durable: false }), 406, /inequivalent arg 'durable'/)
    const c4 = await fresh()
    await expectChannelClosed(
      c4,
      () => c4.assertExchange('amq.custom', 'direct'),
      403,
      /ACCESS_REFUSED - exchange name 'amq.custom' contains reserved prefix 'amq.\*'/
    )
    const c5 = await fresh()
    await expectChannelClosed(c5, () => c5.deleteExchange('amq.direct'), 403)
    const c6 = await fresh()
    await expectChannelClosed(c6, () => c6.bindQueue('by-name', '', 'k'), 403, /operation not permitted on the default exchange/)
  })

  test('an unknown exchange type is 503 COMMAND_INVALID and closes the connection', async () => {
    const victim = await connect(broker.amqpUrl)
    const c = await channel(victim)
    await expectConnectionClosed(victim, () => c.assertExchange('weird', 'x-unknown-type'), 503, /COMMAND_INVALID - unknown exchange type 'x-unknown-type'/)
    await ch.checkQueue('by-name') // others are unaffected
  })

  test('exchange.delete: if-unused refuses while bound (406); auto-delete goes with its last binding; internal refuses publishes (403)', async () => {
    await ch.assertExchange('in-use', 'fanout')
    await ch.assertQueue('in-use.q')
    await ch.bindQueue('in-use.q', 'in-use', '')
    const c1 = await fresh()
    await expectChannelClosed(c1, () => c1.deleteExchange('in-use', { ifUnused: true }), 406, /exchange 'in-use' in vhost '\/' in use/)
    await ch.deleteExchange('in-use')
    await ch.deleteExchange('never-existed') // idempotent
    await ch.assertExchange('auto', 'fanout', { autoDelete: true })
    await ch.bindQueue('in-use.q', 'auto', '')
    await ch.unbindQueue('in-use.q', 'auto', '')
    const c2 = await fresh()
    await expectChannelClosed(c2, () => c2.checkExchange('auto'), 404)
    await ch.assertExchange('inner', 'fanout', { internal: true })
    const c3 = await fresh()
    await expectChannelClosed(
      c3,
      async () => {
        c3.publish('inner', '', Buffer.from('x'))
        await c3.checkQueue('in-use.q')
      },
      403,
      /cannot publish to internal exchange 'inner'/
    )
    const c4 = await fresh()
    await expectChannelClosed(
      c4,
      async () => {
        c4.publish('missing-x', '', Buffer.from('x'))
        await c4.checkQueue('in-use.q')
      },
      404,
      /no exchange 'missing-x'/
    )
  })

  test('queue.declare: server-named amq.gen-*, passive counts, redeclare with other arguments 406, bad argument 406, reserved names 403', async () => {
    const named = await ch.assertQueue('', { exclusive: true })
    assert.match(named.queue, /^amq\.gen-[A-Za-z0-9_-]{22}$/)
    await ch.assertQueue('counted')
    ch.sendToQueue('counted', Buffer.from('1'))
    ch.sendToQueue('counted', Buffer.from('2'))
    await eventually('two messages', async () => (await ch.checkQueue('counted')).messageCount === 2)
    assert.ok(broker.node.metrics.value('wharf_queue_messages_ready') >= 2)
    const scraped = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
    assert.match(scraped, /^wharf_queues\{vhost="\/"\} \d+$/m)
    assert.match(scraped, /^wharf_amqp_connections_open 2$/m)
    const c1 = await fresh()
    await expectChannelClosed(c1, () => c1.checkQueue('nope'), 404, /NOT_FOUND - no queue 'nope' in vhost '\/'/)
    await ch.assertQueue('argued', { arguments: { 'x-max-length': 10 } })
    const c2 = await fresh()
    await expectChannelClosed(
      c2,
      () => c2.assertQueue('argued', { arguments: { 'x-max-length': 20 } }),
      406,
      /inequivalent arg 'x-max-length' for queue 'argued' in vhost '\/': received 20 but current is 10/
    )
    const c3 = await fresh()
    await expectChannelClosed(c3, () => c3.assertQueue('argued', { durable: false, arguments: { 'x-max-length': 10 } }), 406, /inequivalent arg 'durable'/)
    const c4 = await fresh()
    await expectChannelClosed(
      c4,
      () => c4.assertQueue('bad-arg', { arguments: { 'x-max-length': 'ten' } }),
      406,
      /invalid arg 'x-max-length' for queue 'bad-arg'/
    )
    const c5 = await fresh()
    await expectChannelClosed(c5, () => c5.assertQueue('amq.mine'), 403, /queue name 'amq.mine' contains reserved prefix 'amq.\*'/)
    // The broker's own queues: MQTT sessions and shared-subscription groups, bridge backlogs and dead letters.
    for (const name of ['mqtt-session/dev', 'mqtt-share/g/t', 'bridge/cloud', 'bridge-dead/cloud']) {
      const c = await fresh()
      await expectChannelClosed(c, () => c.assertQueue(name), 403, new RegExp(`queue name '${name}' contains reserved prefix`))
    }
  })

  test('exclusive queues: 405 RESOURCE_LOCKED from another connection; deleted when their connection closes', async () => {
    const owner = await connect(broker.amqpUrl)
    const oc = await channel(owner)
    await oc.assertQueue('mine', { exclusive: true })
    const intruder = await channel(other)
    await expectChannelClosed(
      intruder,
      () => intruder.assertQueue('mine', { exclusive: true }),
      405,
      /RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'mine' in vhost '\/'/
    )
    const i2 = await channel(other)
    await expectChannelClosed(i2, () => i2.consume('mine', () => {}), 405)
    const i3 = await channel(other)
    await expectChannelClosed(i3, () => i3.checkQueue('mine'), 405)
    await owner.close()
    const c = await fresh()
    await expectChannelClosed(c, () => c.checkQueue('mine'), 404)
  })

  test('queue.bind / unbind errors: a missing queue or exchange is 404', async () => {
    const c1 = await fresh()
    await expectChannelClosed(c1, () => c1.bindQueue('no-queue', 'amq.direct', 'k'), 404, /no queue 'no-queue'/)
    const c2 = await fresh()
    await expectChannelClosed(c2, () => c2.bindQueue('counted', 'no-exchange', 'k'), 404, /no exchange 'no-exchange'/)
    await ch.unbindQueue('counted', 'amq.direct', 'never-bound') // idempotent
  })

  test('queue.purge and queue.delete (if-empty 406, if-unused 406) report message counts', async () => {
    await ch.assertQueue('purgeable')
    for (const n of ['a', 'b', 'c']) ch.sendToQueue('purgeable', Buffer.from(n))
    await eventually('three messages', async () => (await ch.checkQueue('purgeable')).messageCount === 3)
    const c1 = await fresh()
    await expectChannelClosed(c1, () => c1.deleteQueue('purgeable', { ifEmpty: true }), 406, /queue 'purgeable' in vhost '\/' is not empty/)
    assert.deepEqual(await ch.purgeQueue('purgeable'), { messageCount: 3 })
    const c2 = await fresh()
    await c2.consume('purgeable', () => {})
    const c3 = await fresh()
    await expectChannelClosed(c3, () => c3.deleteQueue('purgeable', { ifUnused: true }), 406, /in use/)
    ch.sendToQueue('purgeable', Buffer.from('x'))
    assert.deepEqual(await ch.deleteQueue('never-declared'), { messageCount: 0 })
    await c2.close()
    assert.equal((await ch.deleteQueue('purgeable')).messageCount, 1)
  })

  test('deleting a queue sends its consumers basic.cancel (consumer_cancel_notify)', async () => {
    await ch.assertQueue('doomed')
    const c = await fresh()
    const cancelled = new Promise<unknown>(resolve => {
      void c.consume('doomed', m => {
        if (m === null) resolve(m)
      })
    })
    await eventually('the consumer', async () => (await ch.checkQueue('doomed')).consumerCount === 1)
    await ch.deleteQueue('doomed')
    assert.equal(await cancelled, null)
  })

  test('auto-delete queues go with their last consumer', async () => {
    await ch.assertQueue('auto-q', { autoDelete: true })
    const c = await fresh()
    const inbox = await consume(c, 'auto-q')
    await c.cancel(inbox.consumerTag)
    const probe = await fresh()
    await expectChannelClosed(probe, () => probe.checkQueue('auto-q'), 404)
  })

  test('queue methods with an empty name use the queue the channel declared last', async () => {
    const c = await fresh()
    const { queue } = await c.assertQueue('', { exclusive: true })
    await c.bindQueue('', 'amq.direct', 'last-declared')
    c.publish('amq.direct', 'last-declared', Buffer.from('via-empty-name'))
    const got = await c.get('', { noAck: true })
    assert.ok(got !== false)
    assert.equal(got.content.toString(), 'via-empty-name')
    assert.equal(got.fields.routingKey, 'last-declared')
    assert.ok(queue.startsWith('amq.gen-'))
    const fresh2 = await fresh()
    await expectChannelClosed(fresh2, () => fresh2.get(''), 404, /no previously declared queue/)
  })
})
