// AMQP's DUP: a persistent message delivered by basic.deliver, unacked, just before a SIGKILL may have
// been processed by the consumer, so after the restart it is delivered with redelivered=true (0-9-1
// §basic.deliver). The same core path as MQTT's DUP (test/mqtt-dup-after-crash.test.ts): the
// entry's delivered mark must be committed before the delivery leaves.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBrokerProcess, type BrokerProcess } from './support/broker-process.ts'
import { channel, closeQuietly, connect, consume } from './support/amqp-helpers.ts'

const N = 20
const QUEUE = 'redelivered-after-crash'
const url = (broker: BrokerProcess): string => `amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`

describe('AMQP: deliveries unacked at a SIGKILL come back redelivered', { timeout: 120_000 }, () => {
  for (const commitWindowMs of [0, 50]) {
    test(`commit window ${commitWindowMs} ms: ${N} delivered, killed, every one redelivered=true`, { timeout: 60_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wharf-redelivered-crash-'))
      const configFile = join(dir, 'wharf.yaml')
      writeFileSync(configFile, `storage:\n  commitWindowMs: ${commitWindowMs}\n`)
      const started: BrokerProcess[] = []
      const start = async (): Promise<BrokerProcess> => {
        const broker = await startBrokerProcess(join(dir, 'data'), {}, ['--config', configFile])
        started.push(broker)
        return broker
      }
      try {
        let broker = await start()
        const conn = await connect(url(broker))
        const cc = await conn.createConfirmChannel()
        await cc.assertQueue(QUEUE, { durable: true })
        const sent = Array.from({ length: N }, (_, i) => `m${i}`)
        for (const body of sent) cc.sendToQueue(QUEUE, Buffer.from(body), { persistent: true })
        await cc.waitForConfirms() // stored: the deliveries below are of committed entries

        const ch = await channel(conn)
        const first = await consume(ch, QUEUE) // no ack
        await first.waitFor(N, 10_000)
        await broker.kill()
        assert.deepEqual(
          first.messages.map(m => [m.content.toString(), m.fields.redelivered]),
          sent.map(body => [body, false])
        )

        broker = await start()
        const again = await connect(url(broker))
        try {
          const inbox = await consume(await channel(again), QUEUE)
          await inbox.waitFor(N, 10_000)
          const fresh = inbox.messages.filter(m => !m.fields.redelivered).map(m => m.content.toString())
          assert.deepEqual(fresh, [], `${fresh.length} of ${N} delivered again with redelivered=false`)
          assert.deepEqual(inbox.bodies(), sent, 'the same messages, in order')
        } finally {
          await closeQuietly(again)
        }
      } finally {
        await Promise.all(started.map(b => b.kill()))
        rmSync(dir, { recursive: true, force: true })
      }
    })
  }
})
