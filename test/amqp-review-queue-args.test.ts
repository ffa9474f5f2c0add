// Queue arguments by queue type through amqplib, as RabbitMQ 3.13 handles them:
// - a new queue carrying an argument that only other queue types list (capabilities() queue_arguments)
//   is 406 "invalid arg '<arg>' for queue '<q>' in vhost '/' of queue type rabbit_<type>_queue"
//   (rabbit_amqqueue:check_declare_arguments / check_arguments_key), for all three types; arguments no
//   type lists stay accepted and ignored.
// - a redeclare compares the existing queue's type's own list (assert_args_equivalence): a classic
//   queue x-queue-version and x-queue-master-locator, a stream x-max-age and its segment size; an
//   argument outside that list is neither compared nor refused on a redeclare.
// - x-queue-version on a classic queue: 1 or 2 (check_queue_version).
// - a dead-letter cycle cut is logged (rabbit_dead_letter:log_cycle_once), here once per interval per
//   dead-lettering queue, then a line with the count held back.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel } from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect, eventually, expectChannelClosed } from './support/amqp-helpers.ts'

const refusedText = (arg: string, queue: string, type: string): RegExp =>
  new RegExp(`PRECONDITION_FAILED - invalid arg '${arg}' for queue '${queue.replaceAll('.', '\\.')}' in vhost '/' of queue type rabbit_${type}_queue"`)

describe('AMQP review: queue arguments by queue type, redeclare lists, dead-letter cycle log', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let conn: ChannelModel
  let ch: Channel

  before(async () => {
    // A short repeat interval: the held-back count of the cycle log shows within the test's bound.
    broker = await startTestBroker(config => {
      config.log.repeatIntervalSeconds = 2
    })
    conn = await connect(broker.amqpUrl)
    ch = await channel(conn)
  })
  after(async () => {
    await closeQuietly(conn)
    await broker.close()
  })

  const refuse = async (queue: string, options: { durable: boolean; arguments: Record<string, unknown> }, text: RegExp): Promise<void> => {
    const c = await channel(conn)
    await expectChannelClosed(c, () => c.assertQueue(queue, options), 406, text)
  }

  test("a new queue carrying another type's argument is 406 of queue type rabbit_<type>_queue, for all three types", async () => {
    const cases: Array<[string, string, Record<string, unknown>, string]> = [
      ['classic', 'cq.dl', { 'x-delivery-limit': 5 }, 'x-delivery-limit'],
      ['classic', 'cq.group', { 'x-quorum-initial-group-size': 3 }, 'x-quorum-initial-group-size'],
      ['classic', 'cq.leader', { 'x-queue-leader-locator': 'client-local' }, 'x-queue-leader-locator'], // classic only from 4.0
      ['classic', 'cq.age', { 'x-queue-type': 'classic', 'x-max-age': '1D' }, 'x-max-age'],
      ['classic', 'cq.strategy', { 'x-dead-letter-strategy': 'at-least-once' }, 'x-dead-letter-strategy'],
      ['quorum', 'qq.prio', { 'x-queue-type': 'quorum', 'x-max-priority': 5 }, 'x-max-priority'],
      ['quorum', 'qq.version', { 'x-queue-type': 'quorum', 'x-queue-version': 2 }, 'x-queue-version'],
      ['quorum', 'qq.master', { 'x-queue-type': 'quorum', 'x-queue-master-locator': 'min-masters' }, 'x-queue-master-locator'],
      ['quorum', 'qq.age', { 'x-queue-type': 'quorum', 'x-max-age': '1D' }, 'x-max-age'],
      ['stream', 'st.prio', { 'x-queue-type': 'stream', 'x-max-priority': 5 }, 'x-max-priority'],
      ['stream', 'st.dl', { 'x-queue-type': 'stream', 'x-delivery-limit': 5 }, 'x-delivery-limit'],
      ['stream', 'st.strategy', { 'x-queue-type': 'stream', 'x-dead-letter-strategy': 'at-most-once' }, 'x-dead-letter-strategy'],
      ['stream', 'st.inmem', { 'x-queue-type': 'stream', 'x-max-in-memory-length': 10 }, 'x-max-in-memory-length'],
      // The first such argument in the order the client sent them is named.
      ['classic', 'cq.order', { 'x-max-age': '1D', 'x-delivery-limit': 5 }, 'x-max-age']
    ]
    for (const [type, queue, args, arg] of cases) {
      await refuse(queue, { durable: true, arguments: args }, refusedText(arg, queue, type))
    }
    const c = await channel(conn)
    await expectChannelClosed(c, () => c.checkQueue('cq.dl'), 404) // nothing was created
    // An argument no type lists is kept and ignored, as before.
    await ch.assertQueue('cq.own', { durable: true, arguments: { 'x-app-owner': 'billing' } })
    await ch.assertQueue('qq.own', { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-app-owner': 'billing' } })
  })

  test('a classic queue takes x-queue-version 1 or 2 and compares it and x-queue-master-locator on redeclare', async () => {
    const args = { 'x-queue-version': 2, 'x-queue-master-locator': 'client-local' }
    await ch.assertQueue('cq.v', { durable: true, arguments: args })
    await ch.assertQueue('cq.v', { durable: true, arguments: args }) // the same: fine
    await ch.assertQueue('cq.v1', { durable: true, arguments: { 'x-queue-version': 1 } })
    await refuse('cq.v', { durable: true, arguments: { ...args, 'x-queue-version': 1 } }, /inequivalent arg 'x-queue-version' for queue 'cq\.v' in vhost '\/'/)
    await refuse('cq.v', { durable: true, arguments: { 'x-queue-version': 2 } }, /inequivalent arg 'x-queue-master-locator' for queue 'cq\.v' in vhost '\/'/)
    // Outside the classic list: neither compared nor refused when the queue exists.
    await ch.assertQueue('cq.v', { durable: true, arguments: { ...args, 'x-delivery-limit': 3 } })
    for (const [queue, version] of [
      ['cq.v3', 3],
      ['cq.v0', 0],
      ['cq.vtext', 'two']
    ] as const) {
      await refuse(
        queue,
        { durable: true, arguments: { 'x-queue-version': version } },
        new RegExp(`invalid arg 'x-queue-version' for queue '${queue.replaceAll('.', '\\.')}'`)
      )
    }
    await refuse('cq.v3b', { durable: true, arguments: { 'x-queue-version': 3 } }, /unsupported queue version '3'/)
  })

  test("a stream compares its own arguments on redeclare (x-max-age, segment size), not the classic queue's", async () => {
    const args = { 'x-queue-type': 'stream', 'x-max-age': '7D', 'x-stream-max-segment-size-bytes': 1_000_000 }
    await ch.assertQueue('st.eq', { durable: true, arguments: args })
    await ch.assertQueue('st.eq', { durable: true, arguments: args }) // the same: fine
    await refuse('st.eq', { durable: true, arguments: { ...args, 'x-max-age': '1D' } }, /inequivalent arg 'x-max-age' for queue 'st\.eq' in vhost '\/'/)
    await refuse(
      'st.eq',
      { durable: true, arguments: { ...args, 'x-stream-max-segment-size-bytes': 2_000_000 } },
      /inequivalent arg 'x-stream-max-segment-size-bytes' for queue 'st\.eq'/
    )
    await refuse(
      'st.eq',
      { durable: true, arguments: { ...args, 'x-initial-cluster-size': 3 } },
      /inequivalent arg 'x-initial-cluster-size' for queue 'st\.eq'/
    )
  })

  test('a dead-letter cycle cut is logged once per interval per queue, naming the queue and the cycle, then the count held back', async () => {
    const lines = (queue: string): Array<Record<string, unknown>> =>
      broker.logs.filter(l => l.msg === 'dead-letter cycle: message dropped' && l.queue === queue)
    // Each message expires at once and is dead-lettered back to the queue itself (the default
    // exchange, by its routing key): a fully automatic cycle, cut every time.
    const cycling = { 'x-message-ttl': 0, 'x-dead-letter-exchange': '' }
    await ch.assertQueue('cyc.self', { arguments: cycling })
    await ch.assertQueue('cyc.two', { arguments: cycling })
    const confirms = await conn.createConfirmChannel()
    for (let i = 0; i < 3; i++) confirms.sendToQueue('cyc.self', Buffer.from(`m${i}`))
    await confirms.waitForConfirms()
    await eventually('the first cycle line for cyc.self', () => lines('cyc.self').length >= 1)
    const [first] = lines('cyc.self')
    assert.equal(first?.level, 'warn')
    assert.equal(first?.vhost, '/')
    assert.equal(first?.reason, 'expired')
    assert.deepEqual(first?.droppedFor, ['cyc.self'])
    assert.deepEqual(first?.cycle, ['cyc.self'])
    assert.equal(first?.suppressed, undefined)

    // Another queue's cycle in the same interval has its own line at once.
    confirms.sendToQueue('cyc.two', Buffer.from('t'))
    await confirms.waitForConfirms()
    await eventually('the cycle line for cyc.two', () => lines('cyc.two').length >= 1)
    assert.equal(lines('cyc.two')[0]?.suppressed, undefined)

    // When the interval ends, one line counts the two cuts held back for cyc.self.
    await eventually('the held-back count for cyc.self', () => lines('cyc.self').length >= 2, 10_000)
    assert.equal(lines('cyc.self').length, 2)
    assert.equal(lines('cyc.self')[1]?.suppressed, 2)
    assert.equal((await ch.checkQueue('cyc.self')).messageCount, 0)
    await confirms.close()
  })
})
