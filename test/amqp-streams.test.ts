// Stream queues (x-queue-type stream) through amqplib against a listening broker, as RabbitMQ
// streams behave for AMQP 0-9-1 clients: x-stream-offset on basic.consume (first, last, next, an
// offset, a timestamp), deliveries carry their offset in the x-stream-offset header, a consumer
// prefetch is required and acks only give credit back, basic.get and no-ack consumers are refused,
// and a restart keeps the stream and its offsets.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect, consume, eventually, expectChannelClosed, expectConnectionClosed, type Inbox } from './support/amqp-helpers.ts'

const STREAM = { durable: true, arguments: { 'x-queue-type': 'stream' } }

const offsetOf = (m: ConsumeMessage): unknown => m.properties.headers?.['x-stream-offset']

async function publishConfirmed(cc: ConfirmChannel, queue: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) cc.sendToQueue(queue, Buffer.from(`m${i}`), { headers: { n: i } })
  await cc.waitForConfirms()
}

/** A channel with a consumer prefetch, consuming from `offset` and acking everything it gets. */
async function reader(conn: ChannelModel, queue: string, offset: unknown, prefetch = 10): Promise<{ ch: Channel; inbox: Inbox }> {
  const ch = await channel(conn)
  await ch.prefetch(prefetch)
  const inbox = await consume(ch, queue, { arguments: { 'x-stream-offset': offset } }, m => ch.ack(m))
  return { ch, inbox }
}

describe('AMQP stream queues', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let conn: ChannelModel

  before(async () => {
    broker = await startTestBroker()
    conn = await connect(broker.amqpUrl)
  })
  after(async () => {
    await closeQuietly(conn)
    await broker.close()
  })

  test('publish with confirms; consume from first, an offset, last, next and a timestamp; acks remove nothing', async () => {
    const ch = await channel(conn)
    assert.deepEqual(await ch.assertQueue('events', STREAM), { queue: 'events', messageCount: 0, consumerCount: 0 })
    const cc = await conn.createConfirmChannel()
    await publishConfirmed(cc, 'events', 0, 20)
    assert.equal((await ch.checkQueue('events')).messageCount, 20)

    const first = await reader(conn, 'events', 'first')
    await first.inbox.waitFor(20)
    assert.deepEqual(
      first.inbox.bodies(),
      Array.from({ length: 20 }, (_, i) => `m${i}`)
    )
    assert.deepEqual(
      first.inbox.messages.map(offsetOf),
      Array.from({ length: 20 }, (_, i) => i)
    )
    assert.equal(first.inbox.messages[7]?.properties.headers?.n, 7, 'the publisher headers are kept beside x-stream-offset')

    const again = await reader(conn, 'events', 'first')
    await again.inbox.waitFor(20)
    assert.equal(again.inbox.messages.length, 20, 'acks of the first consumer removed nothing')
    assert.equal((await ch.checkQueue('events')).messageCount, 20)

    const fromOffset = await reader(conn, 'events', 15)
    await fromOffset.inbox.waitFor(5)
    assert.deepEqual(fromOffset.inbox.messages.map(offsetOf), [15, 16, 17, 18, 19])

    const last = await reader(conn, 'events', 'last')
    await last.inbox.waitFor(1)
    assert.deepEqual(last.inbox.messages.map(offsetOf), [19])

    const next = await reader(conn, 'events', 'next')
    // x-stream-offset timestamps are whole seconds: start the next batch in a second of its own.
    const boundarySeconds = Math.floor(Date.now() / 1000) + 1
    await eventually('the next whole second', () => Date.now() >= boundarySeconds * 1000, 2000)
    await publishConfirmed(cc, 'events', 20, 23)
    await next.inbox.waitFor(3)
    assert.deepEqual(next.inbox.bodies(), ['m20', 'm21', 'm22'], "'next' delivers only what was published after the consume")
    await first.inbox.waitFor(23)
    assert.deepEqual(first.inbox.messages.slice(20).map(offsetOf), [20, 21, 22], 'a consumer at the end reads on')

    const stamped = await reader(conn, 'events', { '!': 'timestamp', value: boundarySeconds })
    await stamped.inbox.waitFor(3)
    assert.deepEqual(stamped.inbox.messages.map(offsetOf), [20, 21, 22])
    await stamped.ch.checkQueue('events') // a round trip: every delivery sent before its answer has arrived
    assert.equal(stamped.inbox.messages.length, 3)
    for (const r of [first, again, fromOffset, last, next, stamped]) await r.ch.close()
    await cc.close()
    await ch.close()
  })

  test('the consumer prefetch bounds unacked deliveries; an ack lets exactly one more come', async () => {
    const ch = await channel(conn)
    await ch.assertQueue('windowed', STREAM)
    const cc = await conn.createConfirmChannel()
    await publishConfirmed(cc, 'windowed', 0, 12)
    const sub = await channel(conn)
    await sub.prefetch(5)
    const inbox = await consume(sub, 'windowed', { arguments: { 'x-stream-offset': 'first' } })
    await inbox.waitFor(5)
    await sub.checkQueue('windowed') // a round trip on the channel: anything already sent has arrived
    assert.equal(inbox.messages.length, 5)
    sub.ack(inbox.messages[0] as ConsumeMessage)
    await inbox.waitFor(6)
    await sub.checkQueue('windowed')
    assert.equal(inbox.messages.length, 6)
    sub.ack(inbox.messages[5] as ConsumeMessage, true)
    await inbox.waitFor(11)
    assert.deepEqual(
      inbox.messages.map(offsetOf),
      Array.from({ length: 11 }, (_, i) => i)
    )
    await sub.close()
    await cc.close()
    await ch.close()
  })

  test('refused: stream-incompatible declarations (406), no prefetch (406), bad x-stream-offset (406); no-ack and basic.get close the connection (540)', async () => {
    const setup = await channel(conn)
    await setup.assertQueue('strict', STREAM)
    const cases: Array<[string, (ch: Channel) => Promise<unknown>, number, RegExp]> = [
      ['non-durable', ch => ch.assertQueue('s1', { durable: false, arguments: { 'x-queue-type': 'stream' } }), 406, /invalid property 'non-durable'/],
      [
        'exclusive',
        ch => ch.assertQueue('s2', { durable: true, exclusive: true, arguments: { 'x-queue-type': 'stream' } }),
        406,
        /invalid property 'exclusive'/
      ],
      [
        'auto-delete',
        ch => ch.assertQueue('s3', { durable: true, autoDelete: true, arguments: { 'x-queue-type': 'stream' } }),
        406,
        /invalid property 'auto-delete'/
      ],
      [
        'x-max-priority',
        ch => ch.assertQueue('s4', { durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-priority': 3 } }),
        406,
        /invalid arg 'x-max-priority'/
      ],
      [
        'x-max-age',
        ch => ch.assertQueue('s5', { durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-age': 'forever' } }),
        406,
        /invalid arg 'x-max-age'/
      ],
      ['redeclared classic', ch => ch.assertQueue('strict', { durable: true }), 406, /inequivalent arg 'x-queue-type'/],
      ['no prefetch', ch => ch.consume('strict', () => {}, { arguments: { 'x-stream-offset': 'first' } }), 406, /consumer prefetch count is not set/],
      [
        'bad offset',
        async ch => {
          await ch.prefetch(10)
          return await ch.consume('strict', () => {}, { arguments: { 'x-stream-offset': 'middle' } })
        },
        406,
        /invalid x-stream-offset 'middle'/
      ]
    ]
    for (const [what, op, code, text] of cases) {
      const ch = await channel(conn)
      await assert.doesNotReject(
        expectChannelClosed(ch, () => op(ch), code, text),
        what
      )
    }
    // 540 NOT_IMPLEMENTED is a connection exception: RabbitMQ closes the connection for these.
    const hard: Array<[string, (ch: Channel) => Promise<unknown>, RegExp]> = [
      [
        'no-ack',
        async ch => {
          await ch.prefetch(10)
          return await ch.consume('strict', () => {}, { noAck: true })
        },
        /automatic acknowledgement not supported by stream queues/
      ],
      ['basic.get', ch => ch.get('strict'), /basic.get not supported by stream queues/]
    ]
    for (const [what, op, text] of hard) {
      const other = await connect(broker.amqpUrl)
      try {
        const ch = await channel(other)
        await assert.doesNotReject(
          expectConnectionClosed(other, () => op(ch), 540, text),
          what
        )
      } finally {
        await closeQuietly(other)
      }
    }
    assert.deepEqual(await setup.checkQueue('strict'), { queue: 'strict', messageCount: 0, consumerCount: 0 })
    await setup.close()
  })
})

describe('AMQP stream queues across a restart', { timeout: 60_000 }, () => {
  test('the stream, its records and its offsets survive stop/start', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp-streams-'))
    try {
      const first = await startTestBroker(c => {
        c.streams.segmentBytes = 64
      }, dir) // several sealed segments
      t.after(() => first.stop()) // a no-op once stopped below; else a failure before that leaves it running
      const conn1 = await connect(first.amqpUrl)
      const cc1 = await conn1.createConfirmChannel()
      await cc1.assertQueue('kept', { durable: true, arguments: { 'x-queue-type': 'stream', 'x-max-age': '7D' } })
      await publishConfirmed(cc1, 'kept', 0, 8)
      await conn1.close()
      await first.stop()

      const second = await startTestBroker(c => {
        c.streams.segmentBytes = 64
      }, dir)
      t.after(() => second.stop())
      const conn2 = await connect(second.amqpUrl)
      try {
        const ch = await channel(conn2)
        assert.equal((await ch.checkQueue('kept')).messageCount, 8)
        const cc2 = await conn2.createConfirmChannel()
        await publishConfirmed(cc2, 'kept', 8, 10)
        const r = await reader(conn2, 'kept', 'first')
        await r.inbox.waitFor(10)
        assert.deepEqual(
          r.inbox.bodies(),
          Array.from({ length: 10 }, (_, i) => `m${i}`)
        )
        assert.deepEqual(
          r.inbox.messages.map(offsetOf),
          Array.from({ length: 10 }, (_, i) => i),
          'offsets continue after the restart'
        )
      } finally {
        await closeQuietly(conn2)
        await second.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
