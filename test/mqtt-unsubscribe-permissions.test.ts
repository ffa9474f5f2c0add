// UNSUBSCRIBE under the permission model, as RabbitMQ's MQTT plugin checks an unbind: write on the
// subscription's queue, read on the MQTT exchange, topic read on the filter's binding key. Refused
// filters keep their subscription: MQTT 5 answers 0x87 Not authorized in the UNSUBACK; 3.1.1's UNSUBACK
// has no reason codes, so it comes as usual and the refusal is only logged and counted. Through mqtt.js,
// with the user's topic permission narrowed over the management API after it subscribed.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { collector, connect, end, settled } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'
import { hashPassword } from '../core/auth/password-hash.ts'

const password = 'pw'

/** UNSUBACK's reason codes as mqtt.js received them (none in 3.1.1). */
function unsuback(client: MqttClient, filters: string[]): Promise<number[] | undefined> {
  return new Promise((resolve, reject) => {
    client.unsubscribe(filters, {}, (err, packet) => {
      if (err !== undefined && err !== null) reject(err)
      else {
        const ack = packet as { granted?: number[]; reasonCode?: number[] } | undefined
        const codes = ack?.granted ?? ack?.reasonCode
        resolve(codes === undefined || codes.length === 0 ? undefined : codes)
      }
    })
  })
}

describe('MQTT UNSUBSCRIBE permissions', { timeout: 60_000 }, () => {
  let broker: TestBroker
  const setTopicRead = async (read: string): Promise<void> => {
    const res = await adminFetch(`${broker.adminUrl}/api/topic-permissions/%2F/uma`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ exchange: 'amq.topic', write: '.*', read })
    })
    assert.ok(res.ok, `PUT topic-permissions: ${res.status}`)
  }
  const denied = (): number => broker.node.metrics.value('wharf_mqtt_unsubscribe_denied_total')

  before(async () => {
    broker = await startTestBroker(c => {
      c.auth.allowAnonymous = false
      c.auth.users = [{ username: 'uma', passwordHash: hashPassword(password) }]
      c.auth.permissions = [{ user: 'uma', vhost: '/', configure: '.*', write: '.*', read: '.*' }]
    })
  })
  after(async () => {
    await broker.close()
  })

  for (const protocolVersion of [5, 4] as const) {
    test(`MQTT ${protocolVersion === 5 ? '5.0' : '3.1.1'}: a filter the user may no longer read stays subscribed; others go`, async () => {
      // settled() goes through topics of its own (wharf-test/settled/...).
      await setTopicRead('^(news|secret|wharf-test)\\.')
      const id = `uma-${protocolVersion}`
      const c = await connect(broker.mqttUrl, { clientId: id, username: 'uma', password, protocolVersion })
      const publisher = await connect(broker.mqttUrl, { clientId: `${id}-pub`, username: 'uma', password })
      const got = collector(c)
      try {
        await c.subscribeAsync(['secret/#', 'news/#'], { qos: 1 })
        await setTopicRead('^(news|wharf-test)\\.')
        const before = denied()
        const codes = await unsuback(c, ['secret/#', 'news/#', 'news/never'])
        if (protocolVersion === 5) assert.deepEqual(codes, [0x87, 0x00, 0x11])
        else assert.equal(codes, undefined, '3.1.1: an UNSUBACK without reason codes')
        assert.equal(denied() - before, 1)
        assert.ok(broker.logs.some(l => l.msg === 'mqtt unsubscribe denied by permissions' && l.filter === 'secret/#'))
        // The refused one is still bound (as RabbitMQ keeps it); the allowed one is gone.
        await publisher.publishAsync('secret/x', 'still subscribed', { qos: 1 })
        await publisher.publishAsync('news/x', 'unsubscribed', { qos: 1 })
        await got.waitFor(1)
        await settled(c)
        assert.deepEqual(
          got.messages.map(m => [m.topic, m.payload]),
          [['secret/x', 'still subscribed']]
        )
        // With the permission back, it may go.
        await setTopicRead('^(news|secret|wharf-test)\\.')
        const again = await unsuback(c, ['secret/#'])
        if (protocolVersion === 5) assert.deepEqual(again, [0x00])
        assert.equal(denied() - before, 1)
      } finally {
        await end(c, publisher)
      }
    })
  }

  test('UNSUBSCRIBE needs write on the session queue: without it, 0x87', async () => {
    await setTopicRead('.*')
    const c = await connect(broker.mqttUrl, { clientId: 'uma-q', username: 'uma', password, protocolVersion: 5 })
    try {
      await c.subscribeAsync('q/#', { qos: 1 })
      const res = await adminFetch(`${broker.adminUrl}/api/permissions/%2F/uma`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ configure: '.*', write: '^amq\\.topic$', read: '.*' })
      })
      assert.ok(res.ok)
      assert.deepEqual(await unsuback(c, ['q/#']), [0x87])
    } finally {
      await end(c)
    }
  })
})
