// Crash tests: the broker is a child process, SIGKILLed under load, restarted on the same data.
// Nothing that was PUBACKed may be missing afterwards.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBrokerProcess } from './support/broker-process.ts'
import { connect, collector, end, settled } from './support/mqtt-helpers.ts'

const N = 2000

function assertInOrderAllOf(payloads: string[], acked: Set<number>): void {
  const seen = new Set<number>()
  let last = -1
  for (const p of payloads) {
    const n = Number(p)
    if (seen.has(n)) continue // QoS 1 allows duplicates
    assert.ok(n > last, `out of order: ${n} after ${last}`)
    last = n
    seen.add(n)
  }
  const missing = [...acked].filter(n => !seen.has(n))
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged messages missing`)
}

describe('SIGKILL and restart lose nothing acknowledged', { timeout: 120_000 }, () => {
  test(`killed right after the last PUBACK of ${N} QoS 1 messages: an offline persistent session gets all, in order`, async t => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-crash-'))
    try {
      const first = await startBrokerProcess(dir)
      t.after(() => first.kill()) // a no-op once killed below; else a failure before the kill leaves it running
      const url1 = `mqtt://127.0.0.1:${first.ports.mqtt}`
      const sub = await connect(url1, { clientId: 'crash-sub', clean: false })
      await sub.subscribeAsync('crash/#', { qos: 1 })
      await end(sub)
      const pub = await connect(url1, { clientId: 'crash-pub' })
      await pub.publishAsync('crash-retained/state', 'on', { qos: 1, retain: true })
      const acked = new Set<number>()
      // 100 in flight at once: acks come back from group commits, as in real load.
      for (let base = 0; base < N; base += 100) {
        await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            pub.publishAsync('crash/data', String(base + i), { qos: 1 }).then(() => {
              acked.add(base + i)
            })
          )
        )
      }
      await first.kill()
      pub.end(true)
      assert.equal(acked.size, N)

      const second = await startBrokerProcess(dir)
      try {
        const back = await connect(`mqtt://127.0.0.1:${second.ports.mqtt}`, { clientId: 'crash-sub', clean: false })
        const got = collector(back)
        await got.waitFor(N, 30_000)
        await settled(back)
        assertInOrderAllOf(
          got.messages.map(m => m.payload),
          acked
        )
        assert.ok(got.messages.length <= N + 100, `too many duplicates: ${got.messages.length}`)
        // The session's subscription survived the kill too: a message published now still reaches it.
        const pub2 = await connect(`mqtt://127.0.0.1:${second.ports.mqtt}`, { clientId: 'crash-pub-2' })
        const before = got.messages.length
        await pub2.publishAsync('crash/data', 'after-restart', { qos: 1 })
        await got.waitFor(before + 1, 5000)
        assert.equal(got.messages.at(-1)?.payload, 'after-restart')
        // And the retained message published before the kill is still retained.
        const late = await connect(`mqtt://127.0.0.1:${second.ports.mqtt}`, { clientId: 'crash-late' })
        const lateGot = collector(late)
        await late.subscribeAsync('crash-retained/#', { qos: 1 })
        assert.deepEqual(
          (await lateGot.waitFor(1)).map(m => [m.topic, m.payload, m.retain]),
          [['crash-retained/state', 'on', true]]
        )
        await end(back, pub2, late)
      } finally {
        await second.terminate()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('killed in the middle of a publish burst: every message that was PUBACKed is delivered after restart', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-crash-mid-'))
    try {
      const first = await startBrokerProcess(dir)
      t.after(() => first.kill())
      const url1 = `mqtt://127.0.0.1:${first.ports.mqtt}`
      const sub = await connect(url1, { clientId: 'mid-sub', clean: false })
      await sub.subscribeAsync('mid/#', { qos: 1 })
      await end(sub)
      const pub = await connect(url1, { clientId: 'mid-pub' })
      pub.on('error', () => {})
      const acked = new Set<number>()
      let killed: Promise<void> | undefined
      let killStarted: () => void = () => {}
      const killing = new Promise<void>(resolve => {
        killStarted = resolve
      })
      const burst = N * 20
      // A window of 200 in flight: the broker can never be far ahead of the kill, however fast it acks.
      const windowSize = 200
      let next = 0
      const sendNext = (): void => {
        if (killed !== undefined || next >= burst) return
        const i = next++
        pub.publishAsync('mid/data', String(i), { qos: 1 }).then(
          () => {
            acked.add(i)
            if (acked.size === N / 2 && !killed) {
              killed = first.kill()
              killStarted()
            }
            sendNext()
          },
          () => {}
        )
      }
      for (let w = 0; w < windowSize; w++) sendNext()
      await Promise.race([killing, new Promise(resolve => setTimeout(resolve, 30_000).unref())])
      assert.ok(killed, 'the broker acknowledged enough messages to be killed mid-burst')
      await killed
      pub.end(true)
      const ackedAtKill = new Set(acked)
      assert.ok(ackedAtKill.size >= N / 2 && ackedAtKill.size < burst, `killed mid-burst (acked ${ackedAtKill.size} of ${burst})`)

      const second = await startBrokerProcess(dir)
      try {
        const back = await connect(`mqtt://127.0.0.1:${second.ports.mqtt}`, { clientId: 'mid-sub', clean: false })
        const got = collector(back)
        await got.waitFor(ackedAtKill.size, 30_000)
        await settled(back)
        assertInOrderAllOf(
          got.messages.map(m => m.payload),
          ackedAtKill
        )
        await end(back)
      } finally {
        await second.terminate()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('SIGTERM drains and exits 0; a restart finds the queued messages', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-term-'))
    try {
      const first = await startBrokerProcess(dir)
      t.after(() => first.kill()) // a no-op once it exited below
      const url1 = `mqtt://127.0.0.1:${first.ports.mqtt}`
      const sub = await connect(url1, { clientId: 'term-sub', clean: false })
      await sub.subscribeAsync('term/#', { qos: 1 })
      await end(sub)
      const pub = await connect(url1, { clientId: 'term-pub' })
      for (let i = 0; i < 50; i++) await pub.publishAsync('term/x', String(i), { qos: 1 })
      const code = await first.terminate()
      pub.end(true)
      assert.equal(code, 0)
      assert.ok(
        first.lines.some(l => l.includes('"stopped"')),
        'shutdown logged'
      )
      const second = await startBrokerProcess(dir)
      try {
        const back = await connect(`mqtt://127.0.0.1:${second.ports.mqtt}`, { clientId: 'term-sub', clean: false })
        const got = collector(back)
        await got.waitFor(50)
        assert.deepEqual(
          got.messages.map(m => m.payload),
          Array.from({ length: 50 }, (_, i) => String(i))
        )
        await end(back)
      } finally {
        await second.terminate()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
