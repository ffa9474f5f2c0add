// An MQTT 5 persistent session offline while a mix of QoS 0 and QoS 1 messages arrives, far past
// storage.queueMemoryMessagesMax: the QoS 0 ones (transient core messages) page out with the QoS 1
// ones instead of keeping the backlog in memory, come back in order, and do not outlive a crash.
// Session state holds QoS 1 messages pending transmission and, optionally, QoS 0 ones (MQTT 5 §4.1);
// Wharf keeps the QoS 0 ones while it runs and drops them at a restart, as RabbitMQ drops transient
// messages paged out by a classic queue.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import type { BrokerProcess } from './support/broker-process.ts'
import { collector, connect, end, settled } from './support/mqtt-helpers.ts'
import { pagingBrokers, restoredLine, sessionQueue as sessionQueueOf, type SessionQueue } from './support/paging-broker.ts'
import { eventually } from './support/wait.ts'

const MEMORY_MAX = 100
/** Messages per backlog: a third QoS 1 (every one with i % 3 === 2, so each backlog ends with one), the rest QoS 0. */
const N = 1500
const WINDOW = 100
const CLIENT_ID = 'paged-mix'
const SESSION = { clientId: CLIENT_ID, clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } }

const qosOf = (i: number): 0 | 1 => (i % 3 === 2 ? 1 : 0)
const payloads = (from: number, to: number, keep: (i: number) => boolean = () => true): string[] =>
  Array.from({ length: to - from }, (_, k) => from + k)
    .filter(keep)
    .map(i => `${i}:${qosOf(i)}`)

/** Publishes [from, to) in windows; a window's last QoS 1 PUBACK says the broker took all of it (one connection, in order). */
async function publishBacklog(url: string, from: number, to: number): Promise<void> {
  const pub = await connect(url, { clientId: 'paged-mix-publisher', protocolVersion: 5 })
  for (let base = from; base < to; base += WINDOW) {
    const window = Array.from({ length: Math.min(WINDOW, to - base) }, (_, k) => base + k)
    await Promise.all(window.map(i => pub.publishAsync('paged-mix/data', `${i}:${qosOf(i)}`, { qos: qosOf(i) })))
  }
  await end(pub)
}

function sessionQueue(broker: BrokerProcess): Promise<SessionQueue> {
  return sessionQueueOf(broker, CLIENT_ID)
}

async function receiveAll(client: MqttClient, n: number): Promise<string[]> {
  const got = await collector(client).waitFor(n, 60_000)
  return got.map(m => `${m.payload}`)
}

test(`MQTT 5: an offline session past queueMemoryMessagesMax (${MEMORY_MAX}) pages its QoS 0 messages out too; after a SIGKILL only the QoS 1 ones come back [MQTT-3.1.2-23] [MQTT-4.6.0-6]`, {
  timeout: 180_000
}, async t => {
  const start = pagingBrokers(t, { queueMemoryMessagesMax: MEMORY_MAX })

  const first = await start()
  const url = `mqtt://127.0.0.1:${first.ports.mqtt}`
  const sub = await connect(url, SESSION)
  await sub.subscribeAsync('paged-mix/#', { qos: 1 })
  await end(sub)

  // Backlog A while the session is offline: two thirds QoS 0.
  await publishBacklog(url, 0, N)
  const offline = await sessionQueue(first)
  assert.equal(offline.messages, N, 'every message, QoS 0 ones too, waits for the session')
  // The ready list and at most the last window, written but not yet paged out; all N before paging transient ones.
  assert.ok(offline.messages_ready_ram <= MEMORY_MAX + WINDOW, `in memory: ${offline.messages_ready_ram} of ${N}`)

  const back = await connect(url, SESSION)
  assert.deepEqual(await receiveAll(back, N), payloads(0, N), 'backlog A: every message once, in publish order')
  const qos = collector(back).messages.map(m => m.qos)
  assert.deepEqual(
    qos,
    Array.from({ length: N }, (_, i) => qosOf(i)),
    'each at the QoS it was published with'
  )
  await eventually(
    'the session queue to be empty and acknowledged',
    async () => {
      const q = await sessionQueue(first)
      return q.messages === 0 && q.messages_unacknowledged === 0
    },
    10_000
  )
  await end(back)

  // Backlog B, then a crash: the QoS 0 ones written to leave memory are dropped at the restart.
  await publishBacklog(url, N, 2 * N)
  assert.equal((await sessionQueue(first)).messages, N)
  await first.kill()

  const second = await start()
  const qos1 = (i: number): boolean => qosOf(i) === 1
  const kept = payloads(N, 2 * N, qos1)
  const restored = restoredLine(second)
  assert.equal(restored?.leftInStore, kept.length - MEMORY_MAX, 'the QoS 1 ones past the head stayed in the store')
  // The first MEMORY_MAX of backlog B went to the ready list (never written); every QoS 0 one after them was.
  assert.equal(restored?.transientDropped, payloads(N + MEMORY_MAX, 2 * N, i => !qos1(i)).length, 'the QoS 0 ones written were dropped')
  assert.equal((await sessionQueue(second)).messages, kept.length)

  const again = await connect(`mqtt://127.0.0.1:${second.ports.mqtt}`, SESSION)
  t.after(() => end(again))
  assert.deepEqual(await receiveAll(again, kept.length), kept, 'backlog B: the QoS 1 ones, in publish order')
  // Nothing more was queued for the session: a sentinel through the same queue comes after all of it.
  await settled(again)
  assert.equal(collector(again).messages.length, kept.length, 'no QoS 0 message came back')
})
