// Crash tests: the broker is a child process, SIGKILLed, restarted on the same data directory.
// Every message whose publisher confirm arrived must be consumed after the restart.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConfirmChannel } from 'amqplib'
import { startBrokerProcess } from './support/broker-process.ts'
import { channel, closeQuietly, connect, consume, eventually } from './support/amqp-helpers.ts'

const N = 2000
const url = (port: number): string => `amqp://guest:guest@127.0.0.1:${port}`

async function consumeAll(port: number, queue: string, atLeast: number): Promise<number[]> {
  const conn = await connect(url(port))
  try {
    const ch = await channel(conn)
    await ch.prefetch(500)
    const inbox = await consume(ch, queue, {}, m => ch.ack(m))
    await inbox.waitFor(atLeast, 30_000)
    await eventually('the queue to drain', async () => (await ch.checkQueue(queue)).messageCount === 0, 10_000)
    return inbox.bodies().map(Number)
  } finally {
    await closeQuietly(conn)
  }
}

describe('AMQP: SIGKILL and restart lose nothing confirmed', { timeout: 120_000 }, () => {
  test(`${N} persistent messages confirmed, SIGKILL, restart: all ${N} consumed, in order`, async t => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp-crash-'))
    try {
      const first = await startBrokerProcess(dir)
      t.after(() => first.kill()) // a no-op once killed below; else a failure before the kill leaves it running
      assert.ok(first.ports.amqp > 0, 'the ready line names the AMQP port')
      const conn = await connect(url(first.ports.amqp))
      const ch = await channel(conn)
      await ch.assertQueue('crash', { durable: true })
      const cc: ConfirmChannel = await conn.createConfirmChannel()
      cc.on('error', () => {})
      const confirmed = new Set<number>()
      for (let base = 0; base < N; base += 200) {
        await Promise.all(
          Array.from(
            { length: 200 },
            (_, i) =>
              new Promise<void>((resolve, reject) => {
                cc.sendToQueue('crash', Buffer.from(String(base + i)), { persistent: true }, err => {
                  if (err !== null && err !== undefined) {
                    reject(err)
                    return
                  }
                  confirmed.add(base + i)
                  resolve()
                })
              })
          )
        )
      }
      assert.equal(confirmed.size, N)
      await first.kill()
      conn.on('close', () => {})

      const second = await startBrokerProcess(dir)
      try {
        const got = await consumeAll(second.ports.amqp, 'crash', N)
        const missing = [...confirmed].filter(n => !got.includes(n))
        assert.deepEqual(missing.slice(0, 10), [], `${missing.length} confirmed messages missing`)
        assert.deepEqual(
          got,
          [...got].sort((a, b) => a - b),
          'in publish order'
        )
        assert.equal(new Set(got).size, got.length, 'no duplicates')
      } finally {
        await second.terminate()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('killed in the middle of a confirmed publish burst: every confirmed message is there after restart', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-amqp-crash-mid-'))
    try {
      const first = await startBrokerProcess(dir)
      t.after(() => first.kill())
      const conn = await connect(url(first.ports.amqp))
      const ch = await channel(conn)
      await ch.assertQueue('mid', { durable: true })
      const cc: ConfirmChannel = await conn.createConfirmChannel()
      cc.on('error', () => {})
      const confirmed = new Set<number>()
      let killed: Promise<void> | undefined
      for (let i = 0; i < N * 5; i++) {
        cc.sendToQueue('mid', Buffer.from(String(i)), { persistent: true }, err => {
          if (err !== null && err !== undefined) return
          confirmed.add(i)
          if (confirmed.size === N && killed === undefined) killed = first.kill()
        })
      }
      await eventually('enough confirms to kill mid-burst', () => killed !== undefined, 30_000)
      await killed
      assert.ok(confirmed.size >= N)
      const second = await startBrokerProcess(dir)
      try {
        const got = new Set(await consumeAll(second.ports.amqp, 'mid', confirmed.size))
        const missing = [...confirmed].filter(n => !got.has(n))
        assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${confirmed.size} confirmed messages missing`)
      } finally {
        await second.terminate()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
