// Flow (storage.flowHoldMaxMs, core/model/queue-flow.ts): a consumed queue that falls behind holds
// its publishers' acknowledgements (MQTT PUBACK, AMQP publisher confirms) until its consumers
// caught up, so publishers with a bounded window slow down to them; a consumer that cannot catch
// up within the bound is given up on once. Real clients: mqtt.js and amqplib publishing, a raw
// MQTT 5 subscriber whose acknowledgements the test controls. Nothing is lost either way.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import amqp from 'amqplib'
import type { IPublishPacket } from 'mqtt-packet'
import { connect, end } from './support/mqtt-helpers.ts'
import { pagingBrokers } from './support/paging-broker.ts'
import type { BrokerProcess } from './support/broker-process.ts'
import { adminFetch } from './support/admin-http.ts'
import { RawMqttClient } from './support/raw-mqtt5.ts'
import { eventually, holdsFor } from './support/wait.ts'

// Flow starts above 200 ready and ends at 100.
const FLOW_START = 200
const N = 400
const CLIENT_ID = 'flow-sub'

async function queueState(broker: BrokerProcess): Promise<{ state: string; messages_ready: number }> {
  const res = await adminFetch(`http://127.0.0.1:${broker.ports.admin}/api/queues/%2F/mqtt-session%2F${CLIENT_ID}`)
  assert.equal(res.status, 200)
  return (await res.json()) as { state: string; messages_ready: number }
}

async function flowEpisodes(broker: BrokerProcess): Promise<{ caughtUp: number; gaveUp: number }> {
  const text = await (await adminFetch(`http://127.0.0.1:${broker.ports.admin}/metrics`)).text()
  const read = (outcome: string): number =>
    Number(new RegExp(`wharf_queue_flow_episodes_total\\{vhost="/",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? NaN)
  return { caughtUp: read('caught-up'), gaveUp: read('gave-up') }
}

/** A subscriber on flow/# with a window of 50 that acknowledges nothing until told to. */
async function subscriber(t: TestContext, broker: BrokerProcess): Promise<{ received: () => IPublishPacket[]; ackAll: () => void }> {
  const { client } = await RawMqttClient.connect(broker.ports.mqtt, { clientId: CLIENT_ID, properties: { receiveMaximum: 50 } })
  t.after(() => client.destroy())
  client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'flow/#', qos: 1 }] })
  await client.waitFor('suback', 1)
  const received = (): IPublishPacket[] => client.of('publish') as IPublishPacket[]
  let acked = 0
  let acking: NodeJS.Timeout | undefined
  t.after(() => clearInterval(acking))
  const ackAll = (): void => {
    acking = setInterval(() => {
      const got = received()
      for (; acked < got.length; acked++) client.send({ cmd: 'puback', messageId: (got[acked] as IPublishPacket).messageId as number })
    }, 2)
  }
  return { received, ackAll }
}

const payloads = (n: number, from = 0): string[] => Array.from({ length: n }, (_, k) => `m${from + k}`)

/** Publishes every payload at once (QoS 1 / confirmed), counting the acknowledgements as they come; close before the broker goes. */
interface Publisher {
  publish(payloads: string[]): { acked: () => number; all: Promise<void> }
  close(): Promise<void>
}

async function mqttPublisher(t: TestContext, broker: BrokerProcess): Promise<Publisher> {
  const pub = await connect(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: 'flow-pub', protocolVersion: 5 })
  t.after(() => end(pub))
  return {
    publish(list) {
      let acked = 0
      const all = Promise.all(list.map(p => pub.publishAsync('flow/data', p, { qos: 1 }).then(() => void acked++))).then(() => {})
      return { acked: () => acked, all }
    },
    close: () => end(pub)
  }
}

async function amqpPublisher(_t: TestContext, broker: BrokerProcess): Promise<Publisher> {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`)
  conn.on('error', () => {})
  // amqplib's close never settles once the broker is gone: the test closes it first (close below).
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await conn.close().catch(() => {})
  }
  const ch = await conn.createConfirmChannel()
  return {
    close,
    publish: list => {
      let acked = 0
      const all = Promise.all(
        list.map(
          p =>
            new Promise<void>((resolve, reject) => {
              // amq.topic is the MQTT exchange: 'flow.data' is the MQTT topic flow/data.
              ch.publish('amq.topic', 'flow.data', Buffer.from(p), { deliveryMode: 2 }, err => {
                if (err) reject(err)
                else {
                  acked++
                  resolve()
                }
              })
            })
        )
      ).then(() => {})
      return { acked: () => acked, all }
    }
  }
}

for (const [kind, makePublisher] of [
  ['MQTT 5 QoS 1 publisher (PUBACK)', mqttPublisher],
  ['AMQP publisher with confirms', amqpPublisher]
] as const) {
  test(`flow: a ${kind} is held while the subscriber's queue is behind, and released once it caught up; nothing lost, order kept`, {
    timeout: 60_000
  }, async t => {
    const broker = await pagingBrokers(t, { flowStartMessages: FLOW_START, flowHoldMaxMs: 60_000 })()
    const sub = await subscriber(t, broker)
    const publisher = await makePublisher(t, broker)
    const run = publisher.publish(payloads(N))

    await eventually(
      'the queue in flow',
      async () => {
        const q = await queueState(broker)
        console.log('DBG', JSON.stringify(q).slice(0, 300), run.acked())
        return q.state === 'flow'
      },
      3_000
    )
    // Held, not refused: the acknowledgements wait for the subscriber (whose 50 in flight it has not acked).
    await holdsFor('acknowledgements held', () => run.acked() < N, 300)
    assert.equal(sub.received().length, 50, 'the subscriber has its window and no more')

    sub.ackAll()
    await run.all // long before flowHoldMaxMs: released because the subscriber caught up
    await eventually('every message delivered', () => sub.received().length === N, 20_000)
    assert.deepEqual(
      sub.received().map(p => p.payload.toString()),
      payloads(N),
      'each once, in publish order'
    )
    const episodes = await flowEpisodes(broker)
    assert.ok(episodes.caughtUp >= 1, `caught-up episodes: ${episodes.caughtUp}`)
    assert.equal(episodes.gaveUp, 0)
    assert.equal((await queueState(broker)).state, 'running')
    await publisher.close()
  })
}

test('flow: a subscriber that does not catch up within storage.flowHoldMaxMs holds its publisher once, then no more; nothing lost', {
  timeout: 60_000
}, async t => {
  const broker = await pagingBrokers(t, { flowStartMessages: FLOW_START, flowHoldMaxMs: 300 })()
  const sub = await subscriber(t, broker)
  const publisher = await mqttPublisher(t, broker)

  await publisher.publish(payloads(N)).all // the stalled subscriber never acks: released at the bound
  assert.deepEqual(await flowEpisodes(broker), { caughtUp: 0, gaveUp: 1 })
  assert.equal((await queueState(broker)).state, 'running')

  // Given up on: more publishes are not held while the backlog stays above half the start (100).
  await publisher.publish(payloads(200, N)).all
  assert.deepEqual(await flowEpisodes(broker), { caughtUp: 0, gaveUp: 1 })
  assert.equal((await queueState(broker)).messages_ready, N + 200 - 50)

  sub.ackAll()
  await eventually('every message delivered', () => sub.received().length === N + 200, 20_000)
  assert.deepEqual(
    sub.received().map(p => p.payload.toString()),
    payloads(N + 200),
    'each once, in publish order'
  )
})
