// AMQP basic class through amqplib: consume, qos (per consumer and global), ack / nack / reject
// with requeue and the redelivered flag, get, recover, mandatory returns, consumer tags, flow,
// publisher confirms after commit, tx, and unacked deliveries coming back when channels close.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel, ConfirmChannel, Message } from 'amqplib'
import * as amqpCallback from 'amqplib/callback_api'
import type { TestBroker } from './support/test-broker.ts'
import { channel, connect, consume, eventually, expectChannelClosed, expectConnectionClosed, withAmqpBroker } from './support/amqp-helpers.ts'
import { RawAmqp } from './support/raw-amqp.ts'
import { Methods } from '../adapters/amqp/codec/amqp-defs.ts'

interface ConfirmFrame {
  kind: 'ack' | 'nack'
  deliveryTag: number
  multiple: boolean
}

/** Publishes n persistent messages at once; resolves with each one's confirm, in publish order. */
async function publishAll(c: ConfirmChannel, queue: string, n: number): Promise<string[]> {
  return await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<string>(resolve => {
          c.sendToQueue(queue, Buffer.from(`b${i}`), { persistent: true }, err => resolve(err === null || err === undefined ? 'ack' : 'nack'))
        })
    )
  )
}

/** The confirm frames name increasing tags and together cover 1..lastTag, each tag once. */
function assertCoversOnce(frames: readonly ConfirmFrame[], lastTag: number): void {
  let confirmed = 0
  for (const f of frames) {
    assert.ok(f.deliveryTag > confirmed, `${f.kind} ${f.deliveryTag} after tag ${confirmed} was confirmed: out of order or twice`)
    assert.ok(
      f.multiple || f.deliveryTag === confirmed + 1,
      `${f.kind} ${f.deliveryTag} without multiple leaves ${confirmed + 1}..${f.deliveryTag - 1} unconfirmed`
    )
    confirmed = f.deliveryTag
  }
  assert.equal(confirmed, lastTag)
}

describe('AMQP basic', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let conn: ChannelModel
  let ch: Channel
  withAmqpBroker(opened => ({ broker, conn, ch } = opened))

  async function queueWith(name: string, bodies: string[], options = {}): Promise<string> {
    await ch.assertQueue(name, options)
    await ch.purgeQueue(name)
    for (const b of bodies) ch.sendToQueue(name, Buffer.from(b))
    await eventually(`${bodies.length} messages in ${name}`, async () => (await ch.checkQueue(name)).messageCount === bodies.length)
    return name
  }

  const numbered = (n: number, prefix = 'm'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

  test('consume with manual ack: deliveries carry consumer tag, exchange, routing key, properties; acked messages are gone', async () => {
    const q = await queueWith('consume-ack', [])
    ch.sendToQueue(q, Buffer.from('{"a":1}'), { contentType: 'application/json', headers: { h: 'v' }, messageId: 'id-1', priority: 3, correlationId: 'c' })
    const c = await channel(conn)
    const inbox = await consume(c, q, { consumerTag: 'my-tag' })
    const [m] = await inbox.waitFor(1)
    assert.ok(m)
    assert.equal(m.fields.consumerTag, 'my-tag')
    assert.equal(m.fields.exchange, '')
    assert.equal(m.fields.routingKey, q)
    assert.equal(m.fields.redelivered, false)
    assert.deepEqual(
      [m.properties.contentType, m.properties.headers, m.properties.messageId, m.properties.priority, m.properties.correlationId],
      ['application/json', { h: 'v' }, 'id-1', 3, 'c']
    )
    c.ack(m)
    await c.cancel('my-tag')
    await eventually('the ack', async () => (await ch.checkQueue(q)).messageCount === 0)
    await c.close()
    assert.equal((await ch.checkQueue(q)).messageCount, 0)
  })

  test('basic.qos per consumer (global=false) limits each consumer; global=true limits the channel', async () => {
    const q = await queueWith('qos', numbered(20))
    const c = await channel(conn)
    await c.prefetch(3)
    const a = await consume(c, q)
    const b = await consume(c, q)
    await a.waitFor(3)
    await b.waitFor(3)
    await c.checkQueue(q) // a round trip: every delivery sent before its answer has arrived
    assert.deepEqual([a.messages.length, b.messages.length], [3, 3])
    c.ack(a.messages[0] as Message)
    await a.waitFor(4)
    await c.close()

    const g = await channel(conn)
    await g.prefetch(4, true)
    const x = await consume(g, q)
    const y = await consume(g, q)
    await eventually('4 deliveries on the channel', () => x.messages.length + y.messages.length === 4)
    await g.checkQueue(q) // a round trip: every delivery sent before its answer has arrived
    assert.equal(x.messages.length + y.messages.length, 4)
    g.ackAll()
    await eventually('4 more', () => x.messages.length + y.messages.length === 8)
    await g.close()
  })

  test('round robin between consumers of one queue', async () => {
    const q = await queueWith('rr', [])
    const c = await channel(conn)
    const a = await consume(c, q, { noAck: true })
    const b = await consume(c, q, { noAck: true })
    for (const m of numbered(6)) ch.sendToQueue(q, Buffer.from(m))
    await eventually('6 deliveries', () => a.messages.length + b.messages.length === 6)
    assert.deepEqual(
      [a.bodies(), b.bodies()],
      [
        ['m0', 'm2', 'm4'],
        ['m1', 'm3', 'm5']
      ]
    )
    await c.close()
  })

  test('reject and nack with requeue keep the position and set redelivered; without requeue the message is gone', async () => {
    const q = await queueWith('requeue', numbered(4))
    const c = await channel(conn)
    await c.prefetch(4)
    const seen: Array<[string, boolean]> = []
    const inbox = await consume(c, q, {}, m => {
      seen.push([m.content.toString(), m.fields.redelivered])
    })
    const first = await inbox.waitFor(4)
    c.reject(first[1] as Message, true) // m1 back at its place
    c.nack(first[3] as Message, false, true) // m3 too
    await inbox.waitFor(6)
    assert.deepEqual(seen.slice(4), [
      ['m1', true],
      ['m3', true]
    ])
    c.nack(inbox.messages[4] as Message, false, false) // dropped
    c.reject(inbox.messages[5] as Message, false)
    c.ack(first[0] as Message)
    c.ack(first[2] as Message)
    await c.cancel(inbox.consumerTag)
    await eventually('all settled', async () => (await ch.checkQueue(q)).messageCount === 0)
    await c.close()
    assert.equal((await ch.checkQueue(q)).messageCount, 0)
  })

  test('ack multiple and nack multiple settle every delivery up to the tag', async () => {
    const q = await queueWith('multi', numbered(6))
    const c = await channel(conn)
    const inbox = await consume(c, q)
    const ms = await inbox.waitFor(6)
    c.ack(ms[2] as Message, true) // m0..m2
    c.nack(ms[5] as Message, true, true) // m3..m5 back
    await inbox.waitFor(9)
    assert.deepEqual(
      inbox.messages.slice(6).map(m => [m.content.toString(), m.fields.redelivered]),
      [
        ['m3', true],
        ['m4', true],
        ['m5', true]
      ]
    )
    c.ackAll()
    await c.close()
    await eventually('empty', async () => (await ch.checkQueue(q)).messageCount === 0)
  })

  test('unacked deliveries return to their queue, redelivered, when the channel or the connection closes', async () => {
    const q = await queueWith('return-on-close', numbered(3))
    const c = await channel(conn)
    const inbox = await consume(c, q)
    await inbox.waitFor(3)
    c.ack(inbox.messages[1] as Message)
    await c.close()
    assert.equal((await ch.checkQueue(q)).messageCount, 2)
    const other = await connect(broker.amqpUrl)
    const oc = await channel(other)
    const again = await consume(oc, q)
    await again.waitFor(2)
    assert.deepEqual(
      again.messages.map(m => [m.content.toString(), m.fields.redelivered]),
      [
        ['m0', true],
        ['m2', true]
      ]
    )
    const socket = (other as unknown as { connection: { stream: { destroy: (err: Error) => void } } }).connection.stream
    socket.destroy(new Error('dropped')) // a dropped TCP connection, no connection.close
    await eventually('requeued after the connection dropped', async () => (await ch.checkQueue(q)).messageCount === 2)
  })

  test('basic.get / get-empty, with and without ack; message-count is what is left', async () => {
    const q = await queueWith('getq', ['g1', 'g2', 'g3'])
    const first = await ch.get(q)
    assert.ok(first !== false)
    assert.deepEqual([first.content.toString(), first.fields.messageCount, first.fields.redelivered], ['g1', 2, false])
    const c = await channel(conn)
    const taken = await c.get(q)
    assert.ok(taken !== false)
    await c.close() // unacked get goes back
    const noAck = await ch.get(q, { noAck: true })
    assert.ok(noAck !== false)
    assert.deepEqual([noAck.content.toString(), noAck.fields.redelivered], ['g2', true])
    ch.ack(first)
    assert.equal(((await ch.get(q, { noAck: true })) as Message).content.toString(), 'g3')
    assert.equal(await ch.get(q), false)
  })

  test('basic.recover requeues every unacked delivery of the channel', async () => {
    const q = await queueWith('recover', ['r1', 'r2'])
    const c = await channel(conn)
    const inbox = await consume(c, q)
    await inbox.waitFor(2)
    await c.recover()
    await inbox.waitFor(4)
    assert.deepEqual(
      inbox.messages.slice(2).map(m => [m.content.toString(), m.fields.redelivered]),
      [
        ['r1', true],
        ['r2', true]
      ]
    )
    c.ackAll()
    await c.close()
  })

  test('mandatory publishes nobody takes come back as basic.return 312 NO_ROUTE', async () => {
    const c = await channel(conn)
    const returned = new Promise<Message>(resolve => c.once('return', resolve))
    c.publish('amq.direct', 'nobody-bound', Buffer.from('back to me'), { mandatory: true, headers: { x: 1 } })
    const m = await returned
    assert.equal(m.content.toString(), 'back to me')
    assert.equal((m.fields as unknown as { replyCode: number }).replyCode, 312)
    assert.equal((m.fields as unknown as { replyText: string }).replyText, 'NO_ROUTE')
    assert.deepEqual(m.properties.headers, { x: 1 })
    await c.close()
  })

  test('consumer tags: generated when empty, reuse on a channel is 530 NOT_ALLOWED; an exclusive consumer refuses company with 403', async () => {
    const q = await queueWith('tags', [])
    const c = await channel(conn)
    const generated = await c.consume(q, () => {})
    assert.match(generated.consumerTag, /^amq\.ctag-/)
    await c.consume(q, () => {}, { consumerTag: 'fixed' })
    const victim = await connect(broker.amqpUrl)
    const vc = await channel(victim)
    await vc.consume(q, () => {}, { consumerTag: 'dup' })
    await expectConnectionClosed(victim, () => vc.consume(q, () => {}, { consumerTag: 'dup' }), 530, /NOT_ALLOWED - attempt to reuse consumer tag 'dup'/)
    await c.close()
    const x = await channel(conn)
    await x.consume(q, () => {}, { exclusive: true })
    const y = await channel(conn)
    await expectChannelClosed(y, () => y.consume(q, () => {}), 403, /ACCESS_REFUSED - queue 'tags' in vhost '\/' in exclusive use/)
    await x.close()
    const z = await channel(conn)
    await z.consume(q, () => {})
    const w = await channel(conn)
    await expectChannelClosed(w, () => w.consume(q, () => {}, { exclusive: true }), 403)
    await z.close()
  })

  test('acking an unknown delivery tag is 406 PRECONDITION_FAILED; so is a second ack of the same tag', async () => {
    const q = await queueWith('badtag', ['x'])
    const c = await channel(conn)
    await expectChannelClosed(
      c,
      async () => {
        c.ack({ fields: { deliveryTag: 99 } } as Message)
        await c.checkQueue(q)
      },
      406,
      /unknown delivery tag 99/
    )
    const d = await channel(conn)
    const m = await d.get(q)
    assert.ok(m !== false)
    d.ack(m)
    await expectChannelClosed(
      d,
      async () => {
        d.ack(m)
        await d.checkQueue(q)
      },
      406,
      /unknown delivery tag 1/
    )
  })

  test('basic.qos prefetch-size and recover requeue=false are 540 NOT_IMPLEMENTED; immediate=true too', async () => {
    const { client } = await RawAmqp.open(broker.node.ports.amqp)
    await client.openChannel(1)
    client.send(1, Methods.BasicQos, { prefetchSize: 1000, prefetchCount: 0, global: false })
    const close = await client.expectMethod(Methods.ConnectionClose)
    assert.deepEqual(
      [(close.fields as { replyCode: number }).replyCode, (close.fields as { replyText: string }).replyText],
      [540, 'NOT_IMPLEMENTED - prefetch_size!=0 (1000)']
    )
    client.destroy()
    const { client: c2 } = await RawAmqp.open(broker.node.ports.amqp)
    await c2.openChannel(1)
    c2.send(1, Methods.BasicRecover, { requeue: false })
    assert.equal(((await c2.expectMethod(Methods.ConnectionClose)).fields as { replyCode: number }).replyCode, 540)
    c2.destroy()
  })

  test('channel.flow active=false holds deliveries until active=true', async () => {
    const q = await queueWith('flow', [])
    const { client } = await RawAmqp.open(broker.node.ports.amqp)
    await client.openChannel(1)
    client.send(1, Methods.ChannelFlow, { active: false })
    assert.equal(((await client.expectMethod(Methods.ChannelFlowOk)).fields as { active: boolean }).active, false)
    client.send(1, Methods.BasicConsume, { queue: q, consumerTag: 'f', noLocal: false, noAck: true, exclusive: false, nowait: false, arguments: {} })
    await client.expectMethod(Methods.BasicConsumeOk)
    ch.sendToQueue(q, Buffer.from('held'))
    await eventually('the message in the queue', async () => (await ch.checkQueue(q)).messageCount === 1)
    // A round trip on the consumer's connection: a delivery sent before its answer would be here.
    client.send(2, Methods.ChannelOpen, {})
    await client.expectMethod(Methods.ChannelOpenOk)
    assert.equal(client.frames.filter(f => f.method?.id === Methods.BasicDeliver).length, 0)
    client.send(1, Methods.ChannelFlow, { active: true })
    await client.expectMethod(Methods.BasicDeliver)
    client.destroy()
  })

  test('publisher confirms: the ack arrives after the persistent message is committed in SQLite', async () => {
    await ch.assertQueue('confirmed', { durable: true })
    const c: ConfirmChannel = await conn.createConfirmChannel()
    c.on('error', () => {})
    const db = broker.node.store.db
    const rows = db.prepare("SELECT count(*) FROM queue_entries e JOIN queues q ON q.id = e.queue_id WHERE q.name = 'vhost/%2F/confirmed'").pluck()
    const before = rows.get() as number
    const seen: number[] = []
    for (let i = 0; i < 50; i++) {
      c.sendToQueue('confirmed', Buffer.from(`c${i}`), { persistent: true }, err => {
        assert.equal(err, null)
        seen.push(rows.get() as number) // read on the confirm: committed already
      })
    }
    await c.waitForConfirms()
    assert.equal(seen.length, 50)
    seen.forEach((n, i) => assert.ok(n >= before + i + 1, `confirm ${i} came before its row was committed`))
    assert.equal(rows.get() as number, before + 50)
    // transient messages and messages to nobody are confirmed too (nothing to store)
    c.sendToQueue('confirmed', Buffer.from('transient'))
    c.publish('amq.direct', 'nobody', Buffer.from('unroutable'))
    await c.waitForConfirms()
    await c.close()
    await ch.purgeQueue('confirmed')
  })

  test('publisher confirms: a burst committed together is confirmed by few basic.ack frames with multiple=true, every publish once', async () => {
    const N = 500
    await ch.assertQueue('confirmed-burst', { durable: true })
    const c: ConfirmChannel = await conn.createConfirmChannel()
    c.on('error', () => {})
    const frames: ConfirmFrame[] = []
    c.on('ack', (f: { deliveryTag: number; multiple: boolean }) => frames.push({ kind: 'ack', ...f }))
    c.on('nack', (f: { deliveryTag: number; multiple: boolean }) => frames.push({ kind: 'nack', ...f }))
    const commitsBefore = broker.node.store.stats.commits
    const outcomes = await publishAll(c, 'confirmed-burst', N)
    const commits = broker.node.store.stats.commits - commitsBefore
    assert.deepEqual(outcomes, Array(N).fill('ack'), 'every publish confirmed positively, once')
    assertCoversOnce(frames, N)
    assert.ok(
      frames.some(f => f.multiple),
      'multiple=true used'
    )
    assert.ok(frames.length <= commits, `${frames.length} basic.ack frames for ${commits} group commits: at most one per commit`)
    await c.close()
    await ch.deleteQueue('confirmed-burst')
  })

  test('publisher confirms: nacks and acks of one burst go out in tag order, a nack before the multiple ack after it', async () => {
    // x-max-length 10 with reject-publish: in each round the first ten are stored (acked after the
    // commit), the rest refused at once (nacked); the acks still come first, in tag order.
    await ch.assertQueue('confirm-order', { durable: true, arguments: { 'x-max-length': 10, 'x-overflow': 'reject-publish' } })
    const c: ConfirmChannel = await conn.createConfirmChannel()
    c.on('error', () => {})
    const frames: ConfirmFrame[] = []
    c.on('ack', (f: { deliveryTag: number; multiple: boolean }) => frames.push({ kind: 'ack', ...f }))
    c.on('nack', (f: { deliveryTag: number; multiple: boolean }) => frames.push({ kind: 'nack', ...f }))
    const outcomes = await publishAll(c, 'confirm-order', 30)
    assert.deepEqual(outcomes, [...Array(10).fill('ack'), ...Array(20).fill('nack')])
    assertCoversOnce(frames, 30)
    await ch.purgeQueue('confirm-order')
    const more = await publishAll(c, 'confirm-order', 12)
    assert.deepEqual(more, [...Array(10).fill('ack'), 'nack', 'nack'])
    assertCoversOnce(frames, 42)
    await c.close()
    await ch.deleteQueue('confirm-order')
  })

  test('publisher confirms: a queue with x-overflow reject-publish that is full nacks', async () => {
    await ch.assertQueue('full', { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } })
    const c = await conn.createConfirmChannel()
    c.on('error', () => {})
    const outcomes = await Promise.all(
      ['a', 'b'].map(
        b =>
          new Promise<string>(resolve => {
            c.sendToQueue('full', Buffer.from(b), {}, err => resolve(err === null || err === undefined ? 'ack' : 'nack'))
          })
      )
    )
    assert.deepEqual(outcomes, ['ack', 'nack'])
    await c.close()
  })

  test('tx: publishes and acks take effect at commit, not before; rollback discards them', async () => {
    const q = await queueWith('txq', ['before'])
    const c = await channel(conn)
    await c.assertQueue(q)
    await txSelect(c)
    c.sendToQueue(q, Buffer.from('in-tx'))
    const m = await c.get(q)
    assert.ok(m !== false)
    c.ack(m)
    await c.checkQueue(q) // a round trip: the ack and the publish were read before its answer
    assert.equal((await ch.checkQueue(q)).messageCount, 0, 'the get took it; the ack and publish wait')
    await txCommit(c)
    assert.deepEqual(await drainAll(q), ['in-tx'])
    c.sendToQueue(q, Buffer.from('rolled-back'))
    await txRollback(c)
    await txCommit(c)
    assert.equal((await ch.checkQueue(q)).messageCount, 0)
    await c.close()
    const d = await conn.createConfirmChannel()
    d.on('error', () => {})
    await expectChannelClosed(d, () => txSelect(d), 406, /cannot switch from confirm to tx mode/)
    const e = await channel(conn)
    await expectChannelClosed(e, () => txCommit(e), 406, /channel is not transactional/)
  })

  test('callback API: consume and ack', async () => {
    const q = await queueWith('cb', ['cb1'])
    await new Promise<void>((resolve, reject) => {
      amqpCallback.connect(broker.amqpUrl, (err: Error | null, c: amqpCallback.Connection) => {
        if (err !== null) {
          reject(err)
          return
        }
        c.createChannel((err2: Error | null, cch: amqpCallback.Channel) => {
          if (err2 !== null) {
            reject(err2)
            return
          }
          cch.consume(
            q,
            m => {
              if (m === null) return
              assert.equal(m.content.toString(), 'cb1')
              cch.ack(m)
              // the channel close travels behind the ack on the channel's own stream
              cch.close(() => c.close(() => resolve()))
            },
            {},
            (err3: Error | null) => {
              if (err3 !== null) reject(err3)
            }
          )
        })
      })
    })
    await eventually('acked', async () => (await ch.checkQueue(q)).messageCount === 0)
  })

  async function drainAll(q: string): Promise<string[]> {
    const out: string[] = []
    for (let m = await ch.get(q, { noAck: true }); m !== false; m = await ch.get(q, { noAck: true })) out.push(m.content.toString())
    return out
  }
})

// amqplib's promise API has no tx methods; its channel's rpc does them.
type Rpc = (method: number, fields: object, expect: number) => Promise<unknown>
const rpcOf = (c: Channel): Rpc => (c as unknown as { rpc: Rpc }).rpc.bind(c)
const txSelect = async (c: Channel): Promise<void> => {
  await rpcOf(c)(Methods.TxSelect, {}, Methods.TxSelectOk)
}
const txCommit = async (c: Channel): Promise<void> => {
  await rpcOf(c)(Methods.TxCommit, {}, Methods.TxCommitOk)
}
const txRollback = async (c: Channel): Promise<void> => {
  await rpcOf(c)(Methods.TxRollback, {}, Methods.TxRollbackOk)
}
