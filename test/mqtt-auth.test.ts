// Authentication (anonymous switch, scrypt users) and Mosquitto-style topic ACLs with %u / %c.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end, settled } from './support/mqtt-helpers.ts'
import { hashPassword } from '../core/auth/password-hash.ts'
import { adminFetch } from './support/admin-http.ts'

describe('MQTT authentication and ACL', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker(config => {
      config.auth.allowAnonymous = false
      config.auth.users = [
        { username: 'alice', passwordHash: hashPassword('wonderland'), publish: ['devices/%c/#'], subscribe: ['commands/%u/#', 'devices/#'] },
        { username: 'admin', passwordHash: hashPassword('s3cret') }
      ]
    })
  })
  after(async () => {
    await broker.close()
  })

  test('anonymous connect is refused with return code 5 when anonymous access is off', async () => {
    await assert.rejects(connect(broker.mqttUrl, { clientId: 'anon' }), (err: Error & { code?: number }) => err.code === 5)
  })

  test('a wrong password is refused with return code 4; the right one connects', async () => {
    await assert.rejects(
      connect(broker.mqttUrl, { clientId: 'dev-1', username: 'alice', password: 'nope' }),
      (err: Error & { code?: number }) => err.code === 4
    )
    await assert.rejects(connect(broker.mqttUrl, { clientId: 'dev-1', username: 'mallory', password: 'x' }), (err: Error & { code?: number }) => err.code === 4)
    const ok = await connect(broker.mqttUrl, { clientId: 'dev-1', username: 'alice', password: 'wonderland' })
    await end(ok)
  })

  test('publish outside the ACL is dropped without closing the connection; inside it is delivered', async () => {
    const admin = await connect(broker.mqttUrl, { clientId: 'watch', username: 'admin', password: 's3cret' })
    const alice = await connect(broker.mqttUrl, { clientId: 'dev-7', username: 'alice', password: 'wonderland' })
    try {
      const got = collector(admin)
      await admin.subscribeAsync('#', { qos: 1 })
      await alice.publishAsync('devices/dev-8/temp', 'not mine', { qos: 1 })
      await alice.publishAsync('elsewhere/x', 'nope', { qos: 0 })
      await alice.publishAsync('devices/dev-7/temp', 'mine', { qos: 1 })
      await got.waitFor(1)
      await settled(admin)
      assert.deepEqual(
        got.messages.map(m => [m.topic, m.payload]),
        [['devices/dev-7/temp', 'mine']]
      )
      assert.ok(alice.connected, 'a denied publish must not close the connection')
      assert.ok(broker.logs.some(l => l.msg === 'mqtt publish denied' && l.topic === 'devices/dev-8/temp'))
      const metrics = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
      assert.match(metrics, /wharf_mqtt_publish_denied_total 2/)
    } finally {
      await end(admin, alice)
    }
  })

  test('subscribe outside the ACL gets SUBACK 0x80; %u is substituted', async () => {
    const alice = await connect(broker.mqttUrl, { clientId: 'dev-9', username: 'alice', password: 'wonderland' })
    try {
      // mqtt.js reports any 0x80 as an error; the SUBACK itself still carries every return code.
      const suback = await new Promise<{ granted: number[] }>(resolve => {
        alice.subscribe(['commands/alice/#', 'commands/bob/#', '#'], { qos: 1 }, (_err, _granted, packet) =>
          resolve(packet as unknown as { granted: number[] })
        )
      })
      assert.deepEqual(suback.granted, [1, 128, 128])
    } finally {
      await end(alice)
    }
  })
})
