// Durable queues longer than storage.queueMemoryMessagesMax keep only their head in memory
// (core/model/paged-tail.ts): an AMQP queue and an MQTT persistent session, each far past the bound,
// SIGKILLed and restarted, give back every acknowledged message, in order, with real clients.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { pagingBrokers, restoredLine } from './support/paging-broker.ts'
import { channel, closeQuietly, connect, consume, eventually } from './support/amqp-helpers.ts'
import { collector, connect as mqttConnect, end } from './support/mqtt-helpers.ts'

const MEMORY_MAX = 100
const N = 3000
const WINDOW = 200

describe(`queues past storage.queueMemoryMessagesMax (${MEMORY_MAX})`, { timeout: 180_000 }, () => {
  test(`AMQP: ${N} persistent messages confirmed, SIGKILL, restart: the head is read back, all ${N} consumed in order`, async t => {
    const start = pagingBrokers(t, { queueMemoryMessagesMax: MEMORY_MAX })
    const first = await start()
    const url = `amqp://guest:guest@127.0.0.1:${first.ports.amqp}`
    const conn = await connect(url)
    const cc = await conn.createConfirmChannel()
    await cc.assertQueue('paged', { durable: true })
    for (let base = 0; base < N; base += WINDOW) {
      for (let i = base; i < base + WINDOW; i++) cc.sendToQueue('paged', Buffer.from(String(i)), { persistent: true })
      await cc.waitForConfirms()
    }
    assert.equal((await cc.checkQueue('paged')).messageCount, N)
    await first.kill()
    conn.on('error', () => {})

    const second = await start()
    assert.equal(restoredLine(second)?.leftInStore, N - MEMORY_MAX, 'only the head was read back')
    const again = await connect(`amqp://guest:guest@127.0.0.1:${second.ports.amqp}`)
    t.after(() => closeQuietly(again))
    const ch = await channel(again)
    assert.equal((await ch.checkQueue('paged')).messageCount, N, 'the count includes what stayed in the store')
    await ch.prefetch(500)
    const inbox = await consume(ch, 'paged', {}, m => ch.ack(m))
    await inbox.waitFor(N, 60_000)
    await eventually('the queue to drain', async () => (await ch.checkQueue('paged')).messageCount === 0, 10_000)
    assert.deepEqual(
      inbox.bodies().map(Number),
      Array.from({ length: N }, (_, i) => i),
      'every message once, in publish order'
    )
  })

  test(`MQTT 5: ${N} QoS 1 messages for an offline persistent session, SIGKILL, restart: all delivered in order`, async t => {
    const start = pagingBrokers(t, { queueMemoryMessagesMax: MEMORY_MAX })
    const first = await start()
    const session = { clientId: 'paged-session', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } }
    const sub = await mqttConnect(`mqtt://127.0.0.1:${first.ports.mqtt}`, session)
    await sub.subscribeAsync('paged/#', { qos: 1 })
    await end(sub)
    const pub = await mqttConnect(`mqtt://127.0.0.1:${first.ports.mqtt}`, { clientId: 'paged-publisher', protocolVersion: 5 })
    for (let base = 0; base < N; base += WINDOW) {
      await Promise.all(Array.from({ length: WINDOW }, (_, i) => pub.publishAsync('paged/data', String(base + i), { qos: 1 })))
    }
    await end(pub)
    await first.kill()

    const second = await start()
    assert.equal(restoredLine(second)?.leftInStore, N - MEMORY_MAX)
    const back = await mqttConnect(`mqtt://127.0.0.1:${second.ports.mqtt}`, session)
    t.after(() => end(back))
    const inbox = collector(back)
    const got = await inbox.waitFor(N, 60_000)
    assert.deepEqual(
      got.map(m => Number(String(m.payload))),
      Array.from({ length: N }, (_, i) => i),
      'every message once, in publish order'
    )
  })
})
