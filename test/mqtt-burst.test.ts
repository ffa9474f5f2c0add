// Issue 9's burst, at the default limits: 4 publishers send 50,000 QoS 1 messages each to one
// connected clean-session QoS 1 subscriber. Every PUBACKed message is delivered, once, in each
// publisher's order [MQTT-4.6.0-6]; the session queue's offline bounds (mqtt.maxQueuedMessages)
// never apply to a connected subscriber, and nothing is logged per message.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqtt, { type MqttClient } from 'mqtt'
import { startTestBroker } from './support/test-broker.ts'
import { eventually } from './support/wait.ts'
import { adminFetch } from './support/admin-http.ts'

const PUBLISHERS = 4
const PER_PUBLISHER = 50_000
const TOTAL = PUBLISHERS * PER_PUBLISHER
/** Publishes a publisher keeps unacknowledged: all of them, so the subscriber falls behind and its queue grows. */
const WINDOW = PER_PUBLISHER

async function open(url: string, clientId: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, clientId, clean: true, reconnectPeriod: 0, connectTimeout: 5000 })
  client.on('error', () => {})
  return client
}

/** QoS 1 publishes with at most WINDOW unacknowledged; resolves with the number PUBACKed. */
function publishAll(client: MqttClient, p: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let sent = 0
    let acked = 0
    const next = (): void => {
      while (sent < PER_PUBLISHER && sent - acked < WINDOW) {
        const i = sent++
        client.publish('burst/in', `${p}:${i}`, { qos: 1 }, err => {
          if (err !== undefined && err !== null) {
            reject(err)
            return
          }
          acked++
          if (acked === PER_PUBLISHER) resolve(acked)
          else next()
        })
      }
    }
    next()
  })
}

test(`burst: ${PUBLISHERS} publishers x ${PER_PUBLISHER} QoS 1 messages to one connected clean-session subscriber: all ${TOTAL} delivered once, in order, no per-message log`, {
  timeout: 120_000
}, async t => {
  const broker = await startTestBroker(config => {
    config.log.level = 'info'
  })
  const clients: MqttClient[] = []
  try {
    const sub = await open(broker.mqttUrl, 'burst-sub')
    clients.push(sub)
    const next = new Array<number>(PUBLISHERS).fill(0)
    let received = 0
    let outOfOrder = 0
    let duplicates = 0
    sub.on('message', (_topic, payload) => {
      received++
      const text = payload.toString()
      const colon = text.indexOf(':')
      const p = Number(text.slice(0, colon))
      const i = Number(text.slice(colon + 1))
      const expected = next[p] as number
      if (i === expected) next[p] = expected + 1
      else if (i < expected) duplicates++
      else {
        outOfOrder++
        next[p] = i + 1
      }
    })
    await sub.subscribeAsync('burst/#', { qos: 1 })
    const publishers = await Promise.all(Array.from({ length: PUBLISHERS }, (_, p) => open(broker.mqttUrl, `burst-pub-${p}`)))
    clients.push(...publishers)

    // How far the subscriber fell behind: the session queue's depth, sampled (for the report only).
    let peakDepth = 0
    const sampler = setInterval(() => {
      void adminFetch(`${broker.adminUrl}/api/queues/%2F/${encodeURIComponent('mqtt-session/burst-sub')}`).then(
        async res => {
          peakDepth = Math.max(peakDepth, ((await res.json()) as { messages: number }).messages)
        },
        () => {}
      )
    }, 100)
    const startedMs = Date.now()
    try {
      const acked = await Promise.all(publishers.map((c, p) => publishAll(c, p)))
      const ackedMs = Date.now() - startedMs
      assert.deepEqual(acked, new Array(PUBLISHERS).fill(PER_PUBLISHER), 'every publish PUBACKed')
      await eventually(`all ${TOTAL} delivered (got ${received})`, () => received >= TOTAL, 60_000)
      const deliveredMs = Date.now() - startedMs
      t.diagnostic(
        `${TOTAL} QoS 1 messages: all PUBACKed after ${ackedMs} ms, all delivered after ${deliveredMs} ms (${Math.round(TOTAL / (deliveredMs / 1000))} msg/s, broker and clients in one process); session queue depth peaked at ${peakDepth} (sampled)`
      )
    } finally {
      clearInterval(sampler)
    }

    assert.equal(received, TOTAL)
    assert.equal(duplicates, 0, 'no message delivered twice')
    assert.equal(outOfOrder, 0, "each publisher's messages in the order published")
    assert.deepEqual(next, new Array(PUBLISHERS).fill(PER_PUBLISHER), 'none missing')

    const metrics = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
    assert.match(metrics, /^wharf_mqtt_queue_overflow_total(?:\{[^}]*\})? 0$/m, 'no overflow at the offline bounds')
    const warns = broker.logs.filter(l => l.level === 'warn' || l.level === 'error')
    assert.ok(warns.length <= 5, `no per-message warnings: ${warns.length} warn/error lines, e.g. ${JSON.stringify(warns.slice(0, 3))}`)
    assert.deepEqual(
      warns.filter(l => /drop|limit|overflow/i.test(String(l.msg))),
      []
    )
  } finally {
    await Promise.all(clients.map(c => c.endAsync(true).catch(() => {})))
    await broker.close()
  }
})
