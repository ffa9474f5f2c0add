// An MQTT 5 Message Expiry Interval past 24.8 days (2^31-1 ms, the most a Node timer holds) waiting in
// an offline session. The queue's TTL timer was asked for more, which Node turns into 1 ms, and the
// queue re-armed it at each firing: measured 286 ms of CPU in 2 s for one such message (18 ms with a
// 1-hour interval). Now the timer is set for at most 2^31-1 ms (core/model/queue-timers.ts). mqtt.js
// v5 over real sockets; the process's CPU time is read while the message waits.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'
import { sleep } from './support/wait.ts'

const SESSION = { protocolVersion: 5, clientId: 'long-expiry', clean: false, properties: { sessionExpiryInterval: 600 } } as const
const THIRTY_FIVE_DAYS_S = 35 * 24 * 3600

describe('a Message Expiry Interval past 24.8 days', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker()
  })
  after(async () => {
    await broker.close()
  })

  test('waits in an offline session without a busy timer, and arrives with its remaining interval [MQTT-3.3.2-6]', async () => {
    const subscriber = await connect(broker.mqttUrl, SESSION)
    await subscriber.subscribeAsync('long/expiry', { qos: 1 })
    await end(subscriber)
    const publisher = await connect(broker.mqttUrl, { protocolVersion: 5 })
    try {
      await publisher.publishAsync('long/expiry', 'waits', { qos: 1, properties: { messageExpiryInterval: THIRTY_FIVE_DAYS_S } })
      // CPU time over a window, not a timing: a 1 ms timer loop costs ~14% of a core here, idle ~1%.
      const windowMs = 2000
      const from = process.cpuUsage()
      await sleep(windowMs)
      const used = process.cpuUsage(from)
      const cpuMs = (used.user + used.system) / 1000
      assert.ok(cpuMs < windowMs * 0.06, `${Math.round(cpuMs)} ms of CPU in ${windowMs} ms while one message waited`)
    } finally {
      await end(publisher)
    }
    const back = await connect(broker.mqttUrl, SESSION)
    try {
      const [m] = await collector(back).waitFor(1)
      assert.equal(m?.payload, 'waits')
      const left = m?.properties?.messageExpiryInterval as number
      assert.ok(left <= THIRTY_FIVE_DAYS_S && left >= THIRTY_FIVE_DAYS_S - 60, `Message Expiry Interval ${left}`)
    } finally {
      await end(back)
    }
  })
})
