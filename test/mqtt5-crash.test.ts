// MQTT 5 sessions of each expiry kind through a SIGKILL of the broker (a child process), killed once
// right after the last PUBACK and once in the middle of a publish burst:
//   expiry 0 (connected at the kill)      -> gone after the restart; its will is published at start
//   a long expiry (offline, messages queued) -> resumes with every PUBACKed message, in order
//   never, 0xFFFFFFFF (connected, receiving) -> resumes; what it had not acknowledged comes again
//   a short expiry that passes while the broker is down -> gone: Session Present 0, nothing delivered
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { IConnackPacket } from 'mqtt-packet'
import type { MqttClient } from 'mqtt'
import { startBrokerProcess, type BrokerProcess } from './support/broker-process.ts'
import { connect, collector, end, type Received } from './support/mqtt-helpers.ts'
import { eventually, holdsFor } from './support/wait.ts'

const NEVER = 0xffffffff
const SHORT_EXPIRY_S = 2
const ACKED_BEFORE_KILL = 1000
const BURST = 20_000

const urlOf = (b: BrokerProcess): string => `mqtt://127.0.0.1:${b.ports.mqtt}`
const connackOf = (client: MqttClient): IConnackPacket => (client as unknown as { connackPacket: IConnackPacket }).connackPacket

async function session(url: string, clientId: string, expiry: number, filters: string[], will?: string): Promise<MqttClient> {
  const client = await connect(url, {
    protocolVersion: 5,
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: expiry },
    ...(will === undefined ? {} : { will: { topic: will, payload: Buffer.from(`${clientId} cut off`), qos: 1, retain: false } })
  })
  for (const f of filters) await client.subscribeAsync(f, { qos: 1 })
  return client
}

/** Payloads of data messages as numbers; checks order (duplicates allowed at QoS 1) and that every acked one is there. */
function assertAllAckedInOrder(messages: Received[], acked: Set<number>, what: string, alsoSeen: Received[] = []): void {
  let last = -1
  const seen = new Set<number>()
  for (const m of messages) {
    const n = Number(m.payload)
    if (seen.has(n)) continue
    assert.ok(n > last, `${what}: ${n} after ${last}`)
    last = n
    seen.add(n)
  }
  for (const m of alsoSeen) seen.add(Number(m.payload))
  const missing = [...acked].filter(n => !seen.has(n))
  assert.deepEqual(missing.slice(0, 10), [], `${what}: ${missing.length} PUBACKed messages missing`)
}

const data = (got: { messages: Received[] }): Received[] => got.messages.filter(m => m.topic === 'crash5/data')

for (const when of ['right after the last PUBACK', 'in the middle of a publish burst'] as const) {
  describe(`MQTT 5 sessions of each expiry kind, broker SIGKILLed ${when}`, { timeout: 120_000 }, () => {
    test('expiry 0 is gone, a long and a never-expiring session resume with every PUBACKed message, an expiry that passed while down is gone [MQTT-3.1.2-23] [MQTT-4.1.0-2] [MQTT-3.2.2-3]', async t => {
      const dir = mkdtempSync(join(tmpdir(), 'wharf-crash5-'))
      let second: BrokerProcess | undefined
      try {
        const first = await startBrokerProcess(dir)
        t.after(() => first.kill()) // a no-op once killed below; else a failure before the kill leaves it running
        const url1 = urlOf(first)
        const exp0 = await session(url1, 'k-exp0', 0, ['crash5/#'], 'will5/exp0')
        const long = await session(url1, 'k-long', 3600, ['crash5/#', 'will5/#'])
        await long.endAsync(false, { reasonCode: 0 })
        const never = await session(url1, 'k-never', NEVER, ['crash5/#'])
        const neverBefore = collector(never)
        const short = await session(url1, 'k-short', SHORT_EXPIRY_S, ['crash5/#'])
        await short.endAsync(false, { reasonCode: 0 })
        const shortExpiresAt = Date.now() + SHORT_EXPIRY_S * 1000

        const pub = await connect(url1, { protocolVersion: 5, clientId: 'k-pub' })
        pub.on('error', () => {})
        const acked = new Set<number>()
        if (when === 'right after the last PUBACK') {
          // 100 in flight at once, so acks come back from group commits as under real load.
          for (let base = 0; base < ACKED_BEFORE_KILL; base += 100) {
            await Promise.all(
              Array.from({ length: 100 }, (_, i) =>
                pub.publishAsync('crash5/data', String(base + i), { qos: 1 }).then(() => {
                  acked.add(base + i)
                })
              )
            )
          }
          await first.kill()
        } else {
          // The whole burst goes out at once; the kill goes from the first PUBACK handler, while the
          // broker still works through the rest (mqtt.js reads PUBACKs slower than the broker sends them).
          let killed: Promise<void> | undefined
          for (let i = 0; i < BURST; i++) {
            pub.publishAsync('crash5/data', String(i), { qos: 1 }).then(
              () => {
                acked.add(i)
                killed ??= first.kill()
              },
              () => {}
            )
          }
          await eventually('the first PUBACK and the kill', () => killed !== undefined, 30_000)
          await killed
          await eventually('the publisher to see the connection gone', () => !pub.connected)
          assert.ok(acked.size < BURST, `killed mid-burst (${acked.size} of ${BURST} PUBACKed)`)
          t.diagnostic(`killed at the first PUBACK; ${acked.size} of ${BURST} PUBACKed in all`)
        }
        const ackedAtKill = new Set(acked)
        if (when === 'right after the last PUBACK') assert.equal(ackedAtKill.size, ACKED_BEFORE_KILL)
        await end(pub, exp0, never)

        // The short expiry runs out while the broker is down: no condition to wait for but the clock.
        await eventually('the short session expiry to pass while the broker is down', () => Date.now() > shortExpiresAt + 200, SHORT_EXPIRY_S * 1000 + 5000)
        second = await startBrokerProcess(dir)
        const url2 = urlOf(second)

        const longBack = await session(url2, 'k-long', 3600, [])
        assert.equal(connackOf(longBack).sessionPresent, true, 'the long-expiry session resumes')
        const longGot = collector(longBack)
        await eventually('the long session to get every PUBACKed message', () => new Set(data(longGot).map(m => m.payload)).size >= ackedAtKill.size, 30_000)
        assertAllAckedInOrder(data(longGot), ackedAtKill, 'k-long')
        // The expiry-0 session's connection was cut by the kill: its will went out at start.
        await eventually('the will of the connection cut by the kill', () => longGot.messages.some(m => m.topic === 'will5/exp0'), 5000)

        const neverBack = await session(url2, 'k-never', NEVER, [])
        assert.equal(connackOf(neverBack).sessionPresent, true, 'the never-expiring session resumes')
        const neverGot = collector(neverBack)
        const neverHad = new Set(data(neverBefore).map(m => m.payload))
        await eventually(
          'the never-expiring session to have every PUBACKed message',
          () => {
            const all = new Set([...neverHad, ...data(neverGot).map(m => m.payload)])
            return [...ackedAtKill].every(n => all.has(String(n)))
          },
          30_000
        )
        assertAllAckedInOrder(data(neverGot), ackedAtKill, 'k-never after the restart', data(neverBefore))

        for (const [clientId, expiry] of [
          ['k-exp0', 0],
          ['k-short', SHORT_EXPIRY_S]
        ] as const) {
          const back = await session(url2, clientId, expiry, [])
          const got = collector(back)
          assert.equal(connackOf(back).sessionPresent, false, `${clientId} is gone after the restart`)
          await holdsFor(`nothing delivered to the ended session ${clientId}`, () => got.messages.length === 0, 500)
          await end(back)
        }
        // And the resumed sessions' subscriptions are live.
        const pub2 = await connect(url2, { protocolVersion: 5, clientId: 'k-pub-2' })
        const longCount = longGot.messages.length
        await pub2.publishAsync('crash5/data', 'after restart', { qos: 1 })
        await eventually(
          'the new message at the resumed session',
          () => longGot.messages.length > longCount && longGot.messages.at(-1)?.payload === 'after restart'
        )
        await end(pub2, longBack, neverBack)
      } finally {
        await second?.terminate()
        rmSync(dir, { recursive: true, force: true })
      }
    })
  })
}

describe('MQTT 5 session connected at the kill', { timeout: 60_000 }, () => {
  test('a session connected when the broker died counts its expiry from the restart: resumable right after it, gone after the expiry [MQTT-3.1.2-23] [MQTT-4.1.0-2]', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-crash5-conn-'))
    let second: BrokerProcess | undefined
    try {
      const first = await startBrokerProcess(dir)
      t.after(() => first.kill())
      const c = await session(urlOf(first), 'k-live', SHORT_EXPIRY_S, ['live5/#'])
      await first.kill()
      const killedAt = Date.now()
      await end(c)
      // Down for longer than the expiry: had it counted from the kill, the session would be gone.
      await eventually('the expiry to pass while down', () => Date.now() > killedAt + SHORT_EXPIRY_S * 1000 + 200, SHORT_EXPIRY_S * 1000 + 5000)
      second = await startBrokerProcess(dir)
      const back = await session(urlOf(second), 'k-live', SHORT_EXPIRY_S, [])
      assert.equal(connackOf(back).sessionPresent, true)
      await back.endAsync(false, { reasonCode: 0 })
      const pub = await connect(urlOf(second), { protocolVersion: 5, clientId: 'k-live-pub' })
      await pub.publishAsync('live5/x', 'queued', { qos: 1 })
      await end(pub)
      // After its expiry (from this disconnect) the session is gone.
      const gone = Date.now() + SHORT_EXPIRY_S * 1000
      await eventually('the expiry to pass', () => Date.now() > gone + 300, SHORT_EXPIRY_S * 1000 + 5000)
      const late = await session(urlOf(second), 'k-live', SHORT_EXPIRY_S, [])
      const got = collector(late)
      assert.equal(connackOf(late).sessionPresent, false)
      await holdsFor('nothing from the expired session', () => got.messages.length === 0, 300)
      await end(late)
    } finally {
      await second?.terminate()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
