// Crash tests across protocols (issue 4): the broker is a child process, SIGKILLed, restarted on
// the same data directory. A QoS 1 MQTT publish routed to a durable AMQP queue survives once
// PUBACKed; a confirmed persistent AMQP publish routed to an offline persistent MQTT session is
// delivered after the restart. Both sides meet on amq.topic, '/' and '.' swapped (DESIGN.md §2).
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConfirmChannel, ChannelModel, ConsumeMessage } from 'amqplib'
import type { MqttClient } from 'mqtt'
import { startBrokerProcess, type BrokerProcess } from './support/broker-process.ts'
import { channel, closeQuietly, connect as amqpConnect, consume, eventually } from './support/amqp-helpers.ts'
import { collector, connect as mqttConnect, end, type Received } from './support/mqtt-helpers.ts'

const N = 2000
const SENTINEL = 'after-restart'
const amqpUrl = (b: BrokerProcess): string => `amqp://guest:guest@127.0.0.1:${b.ports.amqp}`
const mqttUrl = (b: BrokerProcess): string => `mqtt://127.0.0.1:${b.ports.mqtt}`

/** How the broker commits: each event-loop turn (the default) or a group-commit window. */
interface Storage {
  name: string
  commitWindowMs: number
}
const STORAGES: Storage[] = [
  { name: 'commits every event-loop turn (default)', commitWindowMs: 0 },
  // Acks that left before their commit would be lost to a kill inside this window.
  { name: 'group-commit window of 50 ms', commitWindowMs: 50 }
]

/**
 * A temp dir holding the data dir and a config file; the brokers started on it are all SIGKILLed
 * (a no-op for one that already exited) and the dir removed at the end.
 */
async function withDataDir(prefix: string, storage: Storage, body: (start: () => Promise<BrokerProcess>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const configFile = join(dir, 'wharf.yaml')
  writeFileSync(configFile, `storage:\n  commitWindowMs: ${storage.commitWindowMs}\n`)
  const started: BrokerProcess[] = []
  try {
    await body(async () => {
      const broker = await startBrokerProcess(join(dir, 'data'), {}, ['--config', configFile])
      started.push(broker)
      return broker
    })
  } finally {
    await Promise.all(started.map(b => b.kill()))
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Numbered payloads in strictly increasing order, each once, and every acknowledged one among them. */
function assertAllAcknowledgedInOrderOnce(numbers: number[], acked: ReadonlySet<number>): void {
  for (let i = 1; i < numbers.length; i++) {
    const [prev, cur] = [numbers[i - 1] ?? -1, numbers[i] ?? -1]
    assert.ok(cur > prev, `out of order or duplicated: ${cur} after ${prev} (position ${i})`)
  }
  const got = new Set(numbers)
  const missing = [...acked].filter(n => !got.has(n))
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${acked.size} acknowledged messages missing`)
}

// ---- MQTT QoS 1 -> durable AMQP queue -------------------------------------------------------------

const QUEUE = 'cross-durable'
const PLANT_TOPIC = 'plant/line1/temp'
const PLANT_KEY = 'plant.line1.temp'

async function declareDurableQueue(broker: BrokerProcess): Promise<void> {
  const conn = await amqpConnect(amqpUrl(broker))
  try {
    const ch = await channel(conn)
    await ch.assertQueue(QUEUE, { durable: true })
    await ch.bindQueue(QUEUE, 'amq.topic', 'plant.#')
  } finally {
    await closeQuietly(conn)
  }
}

/**
 * After the restart: consumes the queue until the sentinel (published now over MQTT, so it is
 * queued behind everything that survived) arrives; returns what came before it.
 */
async function drainQueueUpToSentinel(broker: BrokerProcess, atLeast: ReadonlySet<number>): Promise<ConsumeMessage[]> {
  const conn = await amqpConnect(amqpUrl(broker))
  let pub: MqttClient | undefined
  try {
    const ch = await channel(conn)
    await ch.prefetch(500)
    const inbox = await consume(ch, QUEUE, {}, m => ch.ack(m))
    const seen = new Set<number>()
    await eventually(
      `all ${atLeast.size} PUBACKed messages from ${QUEUE}`,
      () => {
        for (const m of inbox.messages) seen.add(Number(m.content.toString()))
        return [...atLeast].every(n => seen.has(n))
      },
      30_000
    ).catch(err => {
      throw new Error(
        `${(err as Error).message}: got ${inbox.messages.length}, missing ${[...atLeast]
          .filter(n => !seen.has(n))
          .slice(0, 10)
          .join(', ')}`
      )
    })
    pub = await mqttConnect(mqttUrl(broker), { clientId: 'cross-pub-after' })
    await pub.publishAsync(PLANT_TOPIC, SENTINEL, { qos: 1 })
    await eventually('the sentinel published after the restart', () => inbox.messages.some(m => m.content.toString() === SENTINEL), 10_000)
    const upTo = inbox.messages.findIndex(m => m.content.toString() === SENTINEL)
    return inbox.messages.slice(0, upTo)
  } finally {
    await end(pub)
    await closeQuietly(conn)
  }
}

function assertPlantDeliveries(messages: ConsumeMessage[], acked: ReadonlySet<number>): void {
  for (const m of messages) {
    assert.equal(m.fields.exchange, 'amq.topic')
    assert.equal(m.fields.routingKey, PLANT_KEY, 'the MQTT topic as a routing key, / -> .')
    assert.equal(m.properties.deliveryMode, 2, 'QoS 1 is persistent')
  }
  assertAllAcknowledgedInOrderOnce(
    messages.map(m => Number(m.content.toString())),
    acked
  )
}

// ---- confirmed persistent AMQP -> offline persistent MQTT session ----------------------------------

const SESSION = 'cross-offline'
const CMD_KEY = 'cmd.valve.open'
const CMD_TOPIC = 'cmd/valve/open'

async function leaveOfflineSession(broker: BrokerProcess): Promise<void> {
  const sub = await mqttConnect(mqttUrl(broker), { clientId: SESSION, clean: false })
  await sub.subscribeAsync('cmd/#', { qos: 1 })
  await end(sub)
}

function publishConfirmed(cc: ConfirmChannel, n: number, onConfirm: (n: number) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    cc.publish('amq.topic', CMD_KEY, Buffer.from(String(n)), { persistent: true }, err => {
      if (err !== null && err !== undefined) {
        reject(err instanceof Error ? err : new Error(String(err)))
        return
      }
      onConfirm(n)
      resolve()
    })
  })
}

/**
 * After the restart: the session reconnects (clean=false) and takes its queued messages until all
 * confirmed ones are there; then a sentinel published now over AMQP marks the end of the backlog.
 */
async function resumeSessionUpToSentinel(broker: BrokerProcess, atLeast: ReadonlySet<number>): Promise<Received[]> {
  const conn: ChannelModel = await amqpConnect(amqpUrl(broker))
  let back: MqttClient | undefined
  try {
    back = await mqttConnect(mqttUrl(broker), { clientId: SESSION, clean: false })
    const got = collector(back)
    const seen = new Set<number>()
    await eventually(
      `all ${atLeast.size} confirmed messages in session ${SESSION}`,
      () => {
        for (const m of got.messages) seen.add(Number(m.payload))
        return [...atLeast].every(n => seen.has(n))
      },
      30_000
    ).catch(err => {
      throw new Error(
        `${(err as Error).message}: got ${got.messages.length}, missing ${[...atLeast]
          .filter(n => !seen.has(n))
          .slice(0, 10)
          .join(', ')}`
      )
    })
    const cc = await conn.createConfirmChannel()
    cc.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      cc.publish('amq.topic', CMD_KEY, Buffer.from(SENTINEL), { persistent: true }, err => {
        if (err !== null && err !== undefined) reject(new Error(String(err)))
        else resolve()
      })
    })
    await eventually('the sentinel published after the restart', () => got.messages.some(m => m.payload === SENTINEL), 10_000)
    return got.messages.slice(
      0,
      got.messages.findIndex(m => m.payload === SENTINEL)
    )
  } finally {
    await end(back)
    await closeQuietly(conn)
  }
}

function assertCmdDeliveries(messages: Received[], confirmed: ReadonlySet<number>): void {
  for (const m of messages) {
    assert.equal(m.topic, CMD_TOPIC, 'the routing key as an MQTT topic, . -> /')
    assert.equal(m.qos, 1, 'a persistent AMQP message is QoS 1 for MQTT')
    assert.equal(m.retain, false)
  }
  assertAllAcknowledgedInOrderOnce(
    messages.map(m => Number(m.payload)),
    confirmed
  )
}

for (const storage of STORAGES) {
  describe(`across protocols, ${storage.name}: SIGKILL and restart lose nothing acknowledged`, { timeout: 120_000 }, () => {
    test(`MQTT -> AMQP: ${N} QoS 1 publishes to ${PLANT_TOPIC}, killed right after the last PUBACK: ${QUEUE} has all, in order, once`, async () => {
      await withDataDir('wharf-cross-mqtt-', storage, async start => {
        const first = await start()
        await declareDurableQueue(first)
        const pub = await mqttConnect(mqttUrl(first), { clientId: 'cross-pub' })
        const acked = new Set<number>()
        try {
          // 100 in flight at once: PUBACKs come back from group commits, as under real load.
          for (let base = 0; base < N; base += 100) {
            await Promise.all(
              Array.from({ length: 100 }, (_, i) =>
                pub.publishAsync(PLANT_TOPIC, String(base + i), { qos: 1 }).then(() => {
                  acked.add(base + i)
                })
              )
            )
          }
          await first.kill()
        } finally {
          pub.end(true)
        }
        assert.equal(acked.size, N)

        const second = await start()
        const delivered = await drainQueueUpToSentinel(second, acked)
        assertPlantDeliveries(delivered, acked)
        assert.equal(delivered.length, N, 'nothing beyond what was published')
        assert.equal(await second.terminate(), 0)
      })
    })

    test('MQTT -> AMQP: killed in the middle of a QoS 1 burst: every PUBACKed message is in the durable queue, in order, once', async () => {
      await withDataDir('wharf-cross-mqtt-mid-', storage, async start => {
        const first = await start()
        await declareDurableQueue(first)
        const pub = await mqttConnect(mqttUrl(first), { clientId: 'cross-pub-mid' })
        const acked = new Set<number>()
        const burst = N * 10
        let killed: Promise<void> | undefined
        try {
          // A window of 200 in flight: the broker can never be far ahead of the kill, however fast it
          // acks or however slowly this process reads (it acked a whole burst before the kill landed).
          let next = 0
          const sendNext = (): void => {
            if (killed !== undefined || next >= burst) return
            const i = next++
            pub.publishAsync(PLANT_TOPIC, String(i), { qos: 1 }).then(
              () => {
                acked.add(i)
                if (acked.size === N && killed === undefined) killed = first.kill()
                sendNext()
              },
              () => {}
            ) // not PUBACKed before the kill: may or may not be there
          }
          for (let w = 0; w < 200; w++) sendNext()
          await eventually('enough PUBACKs to kill mid-burst', () => killed !== undefined, 30_000)
          await killed
        } finally {
          pub.end(true)
        }
        // PUBACKs still in the socket when the kill landed were sent by the broker: they count too.
        const ackedAtKill = new Set(acked)
        assert.ok(ackedAtKill.size >= N && ackedAtKill.size < burst, `killed mid-burst (PUBACKed ${ackedAtKill.size} of ${burst})`)

        const second = await start()
        const delivered = await drainQueueUpToSentinel(second, ackedAtKill)
        assertPlantDeliveries(delivered, ackedAtKill)
        assert.equal(await second.terminate(), 0)
      })
    })

    test(`AMQP -> MQTT: ${N} confirmed persistent publishes to ${CMD_KEY}, SIGKILL: offline session ${SESSION} gets all on ${CMD_TOPIC}, in order, once`, async () => {
      await withDataDir('wharf-cross-amqp-', storage, async start => {
        const first = await start()
        await leaveOfflineSession(first)
        const conn = await amqpConnect(amqpUrl(first))
        const confirmed = new Set<number>()
        try {
          const cc = await conn.createConfirmChannel()
          cc.on('error', () => {})
          for (let base = 0; base < N; base += 200) {
            await Promise.all(Array.from({ length: 200 }, (_, i) => publishConfirmed(cc, base + i, n => confirmed.add(n))))
          }
          await first.kill()
        } finally {
          await closeQuietly(conn)
        }
        assert.equal(confirmed.size, N)

        const second = await start()
        const delivered = await resumeSessionUpToSentinel(second, confirmed)
        assertCmdDeliveries(delivered, confirmed)
        assert.equal(delivered.length, N, 'nothing beyond what was published')
        assert.equal(await second.terminate(), 0)
      })
    })

    test('AMQP -> MQTT: killed in the middle of a confirmed burst: every confirmed message reaches the offline session, in order, once', async () => {
      await withDataDir('wharf-cross-amqp-mid-', storage, async start => {
        const first = await start()
        await leaveOfflineSession(first)
        const conn = await amqpConnect(amqpUrl(first))
        const confirmed = new Set<number>()
        const burst = N * 5
        let killed: Promise<void> | undefined
        try {
          const cc = await conn.createConfirmChannel()
          cc.on('error', () => {})
          for (let i = 0; i < burst; i++) {
            publishConfirmed(cc, i, n => {
              confirmed.add(n)
              if (confirmed.size === N && killed === undefined) killed = first.kill()
            }).catch(() => {}) // unconfirmed at the kill: may or may not be there
          }
          await eventually('enough confirms to kill mid-burst', () => killed !== undefined, 30_000)
          await killed
        } finally {
          await closeQuietly(conn)
        }
        const confirmedAtKill = new Set(confirmed)
        assert.ok(confirmedAtKill.size >= N && confirmedAtKill.size < burst, `killed mid-burst (confirmed ${confirmedAtKill.size} of ${burst})`)

        const second = await start()
        const delivered = await resumeSessionUpToSentinel(second, confirmedAtKill)
        assertCmdDeliveries(delivered, confirmedAtKill)
        assert.equal(await second.terminate(), 0)
      })
    })
  })
}
