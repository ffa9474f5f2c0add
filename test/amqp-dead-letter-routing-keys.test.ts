// Dead-lettering routes by the message's routing keys as RabbitMQ does (dlx.html, "Dead-Lettered
// Effects on Messages"; sender-selected.html). Checked against RabbitMQ 3.10.8 with the same steps:
// - without x-dead-letter-routing-key the copy goes by the keys the message was published with: its
//   routing key, CC and BCC; x-death routing-keys list the routing key and CC only;
// - with it, the copy's routing keys are that key alone and its CC header goes, so a later
//   dead-lettering without a key routes by that key;
// - all of it after restarts too (durable queues, persistent messages): BCC is in no header, so the
//   store keeps the keys with the message.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel, GetMessage } from 'amqplib'
import { channel, closeQuietly, connect, eventually, withAmqpBroker } from './support/amqp-helpers.ts'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import * as mqtt from './support/mqtt-helpers.ts'

type Death = { queue?: string; reason?: string; 'routing-keys'?: string[] }

const deathsOf = (m: GetMessage): Array<[string | undefined, string[] | undefined]> =>
  ((m.properties.headers?.['x-death'] ?? []) as Death[]).map(d => [d.queue, d['routing-keys']])

/** The one message in `queue`, taken (not acked yet). */
async function takeOne(ch: Channel, queue: string): Promise<GetMessage> {
  let m: GetMessage | false = false
  await eventually(`a message in ${queue}`, async () => (m = await ch.get(queue)) !== false)
  return m as unknown as GetMessage
}

/** Queues bound to `exchange` each by its own key, named prefix + key; durable. */
async function queuesByKey(ch: Channel, exchange: string, prefix: string, keys: string[], args: Record<string, unknown> = {}): Promise<void> {
  for (const key of keys) {
    await ch.assertQueue(prefix + key, { durable: true, arguments: args[key] as Record<string, unknown> | undefined })
    await ch.bindQueue(prefix + key, exchange, key)
  }
}

const count = async (ch: Channel, queue: string): Promise<number> => (await ch.checkQueue(queue)).messageCount

describe('AMQP dead-lettering by the routing keys', { timeout: 60_000 }, () => {
  let ch: Channel
  let broker: TestBroker
  withAmqpBroker(opened => ({ ch, broker } = opened))

  test('without x-dead-letter-routing-key the BCC destination gets the copy too; x-death routing-keys list the key and CC, not BCC', async () => {
    await ch.assertExchange('bcc.pub', 'direct')
    await ch.assertExchange('bcc.dlx', 'direct')
    await ch.assertQueue('bcc.src', { arguments: { 'x-dead-letter-exchange': 'bcc.dlx' } })
    await ch.bindQueue('bcc.src', 'bcc.pub', 'k')
    await queuesByKey(ch, 'bcc.dlx', 'bcc.dead.', ['k', 'c', 'b'])
    ch.publish('bcc.pub', 'k', Buffer.from('a'), { CC: ['c'], BCC: ['b'] })
    ch.nack(await takeOne(ch, 'bcc.src'), false, false)
    for (const key of ['k', 'c', 'b']) {
      const m = await takeOne(ch, 'bcc.dead.' + key)
      assert.equal(m.fields.routingKey, 'k', `bcc.dead.${key}: the copy keeps the routing key`)
      assert.deepEqual(m.properties.headers?.CC, ['c'], `bcc.dead.${key}: the CC header stays`)
      assert.equal(m.properties.headers?.BCC, undefined, `bcc.dead.${key}: no BCC header`)
      assert.deepEqual(deathsOf(m), [['bcc.src', ['k', 'c']]])
    }
  })

  test('x-dead-letter-routing-key routes by that key alone and removes CC; a second dead-lettering without a key routes by it', async () => {
    await ch.assertExchange('dlrk.pub', 'direct')
    await ch.assertExchange('dlrk.dlx1', 'direct')
    await ch.assertExchange('dlrk.dlx2', 'direct')
    await ch.assertQueue('dlrk.src', { arguments: { 'x-dead-letter-exchange': 'dlrk.dlx1', 'x-dead-letter-routing-key': 'r' } })
    await ch.bindQueue('dlrk.src', 'dlrk.pub', 'k')
    await queuesByKey(ch, 'dlrk.dlx1', 'dlrk.mid.', ['r', 'k', 'c', 'b'], { r: { 'x-dead-letter-exchange': 'dlrk.dlx2' } })
    await queuesByKey(ch, 'dlrk.dlx2', 'dlrk.end.', ['r', 'k', 'c', 'b'])
    ch.publish('dlrk.pub', 'k', Buffer.from('b'), { CC: ['c'], BCC: ['b'] })
    ch.nack(await takeOne(ch, 'dlrk.src'), false, false)

    const mid = await takeOne(ch, 'dlrk.mid.r')
    for (const key of ['k', 'c', 'b']) assert.equal(await count(ch, 'dlrk.mid.' + key), 0, `dlrk.mid.${key}: not routed by the published keys`)
    assert.equal(mid.fields.routingKey, 'r')
    assert.equal(mid.properties.headers?.CC, undefined, 'the CC header is removed')
    assert.deepEqual(deathsOf(mid), [['dlrk.src', ['k', 'c']]])
    ch.nack(mid, false, false)

    const end = await takeOne(ch, 'dlrk.end.r')
    for (const key of ['k', 'c', 'b']) assert.equal(await count(ch, 'dlrk.end.' + key), 0, `dlrk.end.${key}: routed by 'r' only`)
    assert.equal(end.fields.routingKey, 'r')
    assert.deepEqual(deathsOf(end), [
      ['dlrk.mid.r', ['r']],
      ['dlrk.src', ['k', 'c']]
    ])
    ch.ack(end)
  })

  test('an MQTT message (one routing key, its topic) is dead-lettered by that key', async () => {
    await ch.assertExchange('mqtt.dlx', 'topic')
    await ch.assertQueue('mqtt.src', { arguments: { 'x-dead-letter-exchange': 'mqtt.dlx' } })
    await ch.bindQueue('mqtt.src', 'amq.topic', 'sensors.#')
    await ch.assertQueue('mqtt.dead')
    await ch.bindQueue('mqtt.dead', 'mqtt.dlx', 'sensors.t1')
    const device = await mqtt.connect(broker.mqttUrl, { clientId: 'dl-device' })
    try {
      await device.publishAsync('sensors/t1', '21.5', { qos: 1 })
    } finally {
      await mqtt.end(device)
    }
    ch.nack(await takeOne(ch, 'mqtt.src'), false, false)
    const dead = await takeOne(ch, 'mqtt.dead')
    assert.equal(dead.content.toString(), '21.5')
    assert.deepEqual(deathsOf(dead), [['mqtt.src', ['sensors.t1']]])
  })
})

describe('AMQP dead-lettering by the routing keys, across restarts', { timeout: 90_000 }, () => {
  test('the keys (BCC included) outlive a restart, on the message and on its dead-lettered copy; a key set by x-dead-letter-routing-key too', async t => {
    let broker = await startTestBroker()
    let conn: ChannelModel | undefined
    t.after(async () => {
      await closeQuietly(conn)
      await broker.close()
    })
    const restart = async (): Promise<Channel> => {
      await closeQuietly(conn)
      await broker.stop()
      broker = await startTestBroker(() => {}, broker.dataDir)
      conn = await connect(broker.amqpUrl)
      return await channel(conn)
    }
    conn = await connect(broker.amqpUrl)
    let ch = await channel(conn)
    const durable = { durable: true }
    for (const x of ['pub', 'dlx1', 'dlx2', 'dlx3', 'dlx4']) await ch.assertExchange(x, 'direct', durable)
    // src -(no key)-> s1.b (by BCC) -(no key)-> s2.{k,c,b}; s2.b -(key 'r')-> s3.r -(no key)-> s4.r only
    await ch.assertQueue('src', { durable: true, arguments: { 'x-dead-letter-exchange': 'dlx1' } })
    await ch.bindQueue('src', 'pub', 'k')
    await queuesByKey(ch, 'dlx1', 's1.', ['b'], { b: { 'x-dead-letter-exchange': 'dlx2' } })
    await queuesByKey(ch, 'dlx2', 's2.', ['k', 'c', 'b'], { b: { 'x-dead-letter-exchange': 'dlx3', 'x-dead-letter-routing-key': 'r' } })
    await queuesByKey(ch, 'dlx3', 's3.', ['r', 'k', 'c', 'b'], { r: { 'x-dead-letter-exchange': 'dlx4' } })
    await queuesByKey(ch, 'dlx4', 's4.', ['r', 'k', 'c', 'b'])
    const confirms = await conn.createConfirmChannel()
    await new Promise<void>((resolve, reject) =>
      confirms.publish('pub', 'k', Buffer.from('kept'), { persistent: true, CC: ['c'], BCC: ['b'] }, err => (err == null ? resolve() : reject(err)))
    )

    ch = await restart() // the message at rest: its BCC key only in the store
    ch.nack(await takeOne(ch, 'src'), false, false)
    const first = await takeOne(ch, 's1.b')
    assert.deepEqual(first.properties.headers?.CC, ['c'])
    assert.deepEqual(deathsOf(first), [['src', ['k', 'c']]])

    ch = await restart() // the dead-lettered copy at rest, with the keys it was routed by
    ch.nack(await takeOne(ch, 's1.b'), false, false)
    for (const key of ['k', 'c']) {
      const m = await takeOne(ch, 's2.' + key)
      assert.deepEqual(deathsOf(m), [
        ['s1.b', ['k', 'c']],
        ['src', ['k', 'c']]
      ])
      ch.ack(m)
    }

    ch = await restart()
    ch.nack(await takeOne(ch, 's2.b'), false, false)
    const third = await takeOne(ch, 's3.r')
    for (const key of ['k', 'c', 'b']) assert.equal(await count(ch, 's3.' + key), 0, `s3.${key}: routed by 'r' only`)
    assert.equal(third.properties.headers?.CC, undefined)

    ch = await restart() // the copy whose routing keys are 'r' alone
    ch.nack(await takeOne(ch, 's3.r'), false, false)
    const last = await takeOne(ch, 's4.r')
    for (const key of ['k', 'c', 'b']) assert.equal(await count(ch, 's4.' + key), 0, `s4.${key}: routed by 'r' only`)
    assert.equal(last.fields.routingKey, 'r')
    assert.equal(last.properties.headers?.CC, undefined)
    assert.equal(last.properties.headers?.BCC, undefined)
    assert.deepEqual(deathsOf(last), [
      ['s3.r', ['r']],
      ['s2.b', ['k', 'c']],
      ['s1.b', ['k', 'c']],
      ['src', ['k', 'c']]
    ])
  })
})
