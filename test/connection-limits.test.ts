// Connection limits through real clients: per user and per vhost over MQTT (CONNACK 0x97, 3.1.1
// return code 3) and AMQP (530 NOT_ALLOWED in RabbitMQ's words), the per-source-IP accept rate, and
// the cached password verifier (a second login is cheap, an unknown user is as slow as a wrong password).
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect as netConnect } from 'node:net'
import { performance } from 'node:perf_hooks'
import amqplib from 'amqplib'
import { adminFetch } from './support/admin-http.ts'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, end, sleep } from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'
import { connect as amqpConnect, closeQuietly } from './support/amqp-helpers.ts'
import { hashPassword } from '../core/auth/password-hash.ts'
import { RawAmqp } from './support/raw-amqp.ts'

/** A counter's value, summed over the series whose labels include `labels` (label order as the registry writes it). */
async function metric(broker: TestBroker, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  return text
    .split('\n')
    .filter(l => (l.startsWith(name + ' ') || l.startsWith(name + '{')) && wanted.every(w => l.includes(w)))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)
}

describe('connection limits', { timeout: 90_000 }, () => {
  let broker: TestBroker
  const passwordHash = hashPassword('pw')
  before(async () => {
    broker = await startTestBroker(c => {
      c.limits.perUser.connectionsMax = 2
      c.amqp.vhosts = ['/', 'small']
      c.limits.perVhost.connectionsMax = 3
      c.auth.users = [
        { username: 'alice', passwordHash, vhosts: ['/', 'small'] },
        { username: 'bob', passwordHash, vhosts: ['/', 'small'] }
      ]
    })
  })
  after(async () => {
    await broker.close()
  })

  test('per user, MQTT: the third connection gets CONNACK 0x97 Quota exceeded (3.1.1: 3 Server unavailable); a closed one frees its place', async () => {
    const a = await connect(broker.mqttUrl, { clientId: 'alice-1', username: 'alice', password: 'pw' })
    const b = await connect(broker.mqttUrl, { clientId: 'alice-2', username: 'alice', password: 'pw', protocolVersion: 5 })
    try {
      await assert.rejects(
        connect(broker.mqttUrl, { clientId: 'alice-3', username: 'alice', password: 'pw', protocolVersion: 5 }, 3000),
        (err: Error & { code?: number }) => {
          assert.equal(err.code, 0x97)
          return true
        }
      )
      await assert.rejects(connect(broker.mqttUrl, { clientId: 'alice-4', username: 'alice', password: 'pw' }, 3000), (err: Error & { code?: number }) => {
        assert.equal(err.code, 3)
        return true
      })
      const other = await connect(broker.mqttUrl, { clientId: 'bob-1', username: 'bob', password: 'pw' })
      await end(other)
      assert.equal(await metric(broker, 'wharf_connections_limit_refused_total', { limit: 'user', protocol: 'mqtt' }), 2)
      assert.ok(
        broker.logs.some(l => l.msg === 'connection refused: connection limit reached' && /user connection limit \(2\) is reached/.test(String(l.reason)))
      )
    } finally {
      await end(a, b)
    }
    // The server frees a user's place in the same step that drops the connection from the open gauge.
    await eventually('the closed connections are gone from the server', async () => (await metric(broker, 'wharf_mqtt_connections_open')) === 0)
    await end(await connect(broker.mqttUrl, { clientId: 'alice-5', username: 'alice', password: 'pw' }))
  })

  test('per user across protocols: MQTT and AMQP connections count together; AMQP is refused with 530 as RabbitMQ', async () => {
    const m = await connect(broker.mqttUrl, { clientId: 'alice-m', username: 'alice', password: 'pw' })
    const q = await amqpConnect(`amqp://alice:pw@127.0.0.1:${broker.node.ports.amqp}`)
    try {
      const refused = await RawAmqp.tryOpen(broker.node.ports.amqp, {}, { user: 'alice', password: 'pw', vhost: '/' })
      assert.ok('close' in refused)
      assert.deepEqual(
        [refused.close.replyCode, refused.close.replyText],
        [530, "NOT_ALLOWED - connection refused for user 'alice': user connection limit (2) is reached"]
      )
      refused.client.socket.destroy()
      await assert.rejects(amqplib.connect(`amqp://alice:pw@127.0.0.1:${broker.node.ports.amqp}`), /ConnectionClose/)
    } finally {
      await end(m)
      await closeQuietly(q)
    }
  })

  test('per vhost: the vhost refuses the connection past its limit, whoever it is', async () => {
    const url = `amqp://bob:pw@127.0.0.1:${broker.node.ports.amqp}/small`
    const open = [await amqpConnect(url), await amqpConnect(url), await amqpConnect(`amqp://alice:pw@127.0.0.1:${broker.node.ports.amqp}/small`)]
    try {
      const refused = await RawAmqp.tryOpen(broker.node.ports.amqp, {}, { user: 'alice', password: 'pw', vhost: 'small' })
      assert.ok('close' in refused)
      assert.deepEqual(
        [refused.close.replyCode, refused.close.replyText],
        [530, "NOT_ALLOWED - access to vhost 'small' refused for user 'alice': connection limit (3) is reached"]
      )
      refused.client.socket.destroy()
      assert.equal(await metric(broker, 'wharf_connections_limit_refused_total', { limit: 'vhost', protocol: 'amqp' }), 1)
      // The MQTT vhost (/) is another vhost: not affected.
      await end(await connect(broker.mqttUrl, { clientId: 'anon-in-root' }))
    } finally {
      await closeQuietly(...open)
    }
  })
})

describe('per-source-IP connection rate', { timeout: 60_000 }, () => {
  test('limits.perSourceIp.connectionsPerSecond closes the excess at accept and counts it; well-paced clients still connect', async () => {
    const broker = await startTestBroker(c => {
      c.limits.perSourceIp.connectionsPerSecond = 5
    })
    try {
      const outcomes = await Promise.all(
        Array.from(
          { length: 12 },
          () =>
            new Promise<'kept' | 'closed'>(resolve => {
              const s = netConnect(broker.node.ports.mqtt, '127.0.0.1')
              s.on('error', () => {})
              const timer = setTimeout(() => {
                s.destroy()
                resolve('kept')
              }, 500)
              s.once('close', () => {
                clearTimeout(timer)
                resolve('closed')
              })
            })
        )
      )
      const closed = outcomes.filter(o => o === 'closed').length
      assert.ok(closed >= 6 && closed <= 7, `12 at once against 5/s: ${closed} closed at accept`)
      assert.equal(await metric(broker, 'wharf_connections_rate_limited_total', { listener: 'mqtt' }), closed)
      assert.ok(broker.logs.some(l => l.msg === 'connection refused: limits.perSourceIp.connectionsPerSecond exceeded'))
      await sleep(1100) // the bucket refills
      const c = await connect(broker.mqttUrl, { clientId: 'after-the-burst' })
      await end(c)
    } finally {
      await broker.close()
    }
  })
})

describe('cached password verifier', { timeout: 60_000 }, () => {
  test('a second MQTT login of a user costs no scrypt; an unknown user takes as long as a wrong password', async t => {
    const broker = await startTestBroker(c => {
      c.auth.users = [{ username: 'dev', passwordHash: hashPassword('right') }]
    })
    const timedConnect = async (clientId: string, username: string, password: string): Promise<number> => {
      const start = performance.now()
      try {
        await end(await connect(broker.mqttUrl, { clientId, username, password }, 5000))
      } catch {
        /* refused: timed all the same */
      }
      return performance.now() - start
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
    try {
      const first = await timedConnect('v-1', 'dev', 'right')
      const again: number[] = []
      for (let i = 0; i < 5; i++) again.push(await timedConnect(`v-again-${i}`, 'dev', 'right'))
      const unknown: number[] = []
      const wrong: number[] = []
      for (let i = 0; i < 7; i++) {
        // interleaved, so a busy moment of the machine falls on both
        unknown.push(await timedConnect(`v-unknown-${i}`, 'nobody', 'right'))
        wrong.push(await timedConnect(`v-wrong-${i}`, 'dev', 'wrong'))
      }
      t.diagnostic(
        `CONNECT to CONNACK: first login ${first.toFixed(1)} ms, again ${median(again).toFixed(1)} ms (median), unknown user ${median(unknown).toFixed(1)} ms, wrong password ${median(wrong).toFixed(1)} ms`
      )
      assert.ok(median(again) < first / 2, 'a remembered login skips the scrypt')
      // No fast path for a user that does not exist (the exact equality is measured in core/auth/password-verifier.test.ts).
      const ratio = median(unknown) / median(wrong)
      assert.ok(ratio > 0.5 && ratio < 2, `unknown user ${median(unknown).toFixed(1)} ms vs wrong password ${median(wrong).toFixed(1)} ms`)
    } finally {
      await broker.close()
    }
  })
})
