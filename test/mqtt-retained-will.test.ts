// Retained messages (also across restart) and will messages.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end, settled } from './support/mqtt-helpers.ts'

describe('retained messages and wills', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker()
  })
  after(async () => {
    await broker.close()
  })

  test('a retained message is delivered to later subscribers, also via wildcards, and cleared by an empty payload', async () => {
    const pub = await connect(broker.mqttUrl, { clientId: 'ret-pub' })
    await pub.publishAsync('ret/a/temp', '21.5', { qos: 1, retain: true })
    await pub.publishAsync('ret/b/temp', '19.0', { qos: 1, retain: true })
    const sub = await connect(broker.mqttUrl, { clientId: 'ret-sub' })
    try {
      const got = collector(sub)
      await sub.subscribeAsync('ret/+/temp', { qos: 1 })
      const msgs = await got.waitFor(2)
      assert.deepEqual(msgs.map(m => [m.topic, m.payload, m.retain]).sort(), [
        ['ret/a/temp', '21.5', true],
        ['ret/b/temp', '19.0', true]
      ])
      await pub.publishAsync('ret/a/temp', '', { qos: 1, retain: true })
      const late = await connect(broker.mqttUrl, { clientId: 'ret-late' })
      const lateGot = collector(late)
      await late.subscribeAsync('ret/#', { qos: 1 })
      await lateGot.waitFor(1)
      await settled(late)
      assert.deepEqual(
        lateGot.messages.map(m => m.topic),
        ['ret/b/temp']
      )
      await end(late)
    } finally {
      await end(pub, sub)
    }
  })

  test('the will is published when a client drops without DISCONNECT, not on a clean disconnect', async () => {
    const watcher = await connect(broker.mqttUrl, { clientId: 'will-watch' })
    try {
      const got = collector(watcher)
      await watcher.subscribeAsync('wills/#', { qos: 1 })
      const polite = await connect(broker.mqttUrl, {
        clientId: 'will-polite',
        will: { topic: 'wills/polite', payload: Buffer.from('gone'), qos: 1, retain: false }
      })
      await polite.endAsync()
      const rude = await connect(broker.mqttUrl, { clientId: 'will-rude', will: { topic: 'wills/rude', payload: Buffer.from('lost'), qos: 1, retain: false } })
      ;(rude as unknown as { stream: { destroy(): void } }).stream.destroy()
      const msgs = await got.waitFor(1)
      await settled(watcher)
      assert.deepEqual(
        msgs.map(m => [m.topic, m.payload]),
        [['wills/rude', 'lost']]
      )
      rude.end(true)
    } finally {
      await end(watcher)
    }
  })
})

describe('retained messages survive a restart', { timeout: 60_000 }, () => {
  test('stop, start on the same data directory, retained message still there', async t => {
    const first = await startTestBroker()
    t.after(() => first.close()) // a no-op once stopped below; else a failure before that leaves it running
    const pub = await connect(first.mqttUrl, { clientId: 'ret-restart-pub' })
    await pub.publishAsync('restart/ret', 'kept', { qos: 1, retain: true })
    await end(pub)
    await first.stop()
    const second = await startTestBroker(() => {}, first.dataDir)
    try {
      const sub = await connect(second.mqttUrl, { clientId: 'ret-restart-sub' })
      const got = collector(sub)
      await sub.subscribeAsync('restart/#', { qos: 1 })
      const msgs = await got.waitFor(1)
      assert.deepEqual(
        msgs.map(m => [m.topic, m.payload, m.retain]),
        [['restart/ret', 'kept', true]]
      )
      await end(sub)
    } finally {
      await second.close()
    }
  })
})
