// An MQTT 5 persistent session whose client is offline keeps only storage.idleQueueMemoryMessagesMax
// of its backlog in memory, far below storage.queueMemoryMessagesMax: a few hundred offline devices
// with long backlogs must not fill the heap. The client gets everything in order when it comes back,
// and a restart reads back only that short head of each session.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { collector, connect, end } from './support/mqtt-helpers.ts'
import { pagingBrokers, restoredLine, sessionQueue } from './support/paging-broker.ts'
import { RawMqttClient } from './support/raw-mqtt5.ts'
import { eventually } from './support/wait.ts'

const MEMORY_MAX = 1000
const IDLE_MAX = 50
const N = 600
const WINDOW = 100
const CLIENT_ID = 'idle-paging'
const SESSION = { clientId: CLIENT_ID, clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } }

const payloads = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, k) => `m${from + k}`)

async function publishBacklog(url: string, from: number, to: number): Promise<void> {
  const pub = await connect(url, { clientId: 'idle-paging-publisher', protocolVersion: 5 })
  for (let base = from; base < to; base += WINDOW) {
    await Promise.all(payloads(base, Math.min(base + WINDOW, to)).map(p => pub.publishAsync('idle-paging/data', p, { qos: 1 })))
  }
  await end(pub)
}

test(`MQTT 5: an offline session keeps idleQueueMemoryMessagesMax (${IDLE_MAX}) of its backlog in memory, not queueMemoryMessagesMax (${MEMORY_MAX}), and loses none [MQTT-4.1.0-1]`, {
  timeout: 180_000
}, async t => {
  const start = pagingBrokers(t, { queueMemoryMessagesMax: MEMORY_MAX, idleQueueMemoryMessagesMax: IDLE_MAX })

  const first = await start()
  const url = `mqtt://127.0.0.1:${first.ports.mqtt}`
  const sub = await connect(url, SESSION)
  await sub.subscribeAsync('idle-paging/#', { qos: 1 })
  await end(sub)

  await publishBacklog(url, 0, N)
  const offline = await sessionQueue(first, CLIENT_ID)
  assert.equal(offline.messages, N)
  // The short head and at most the last window, written but not yet paged out.
  assert.ok(offline.messages_ready_ram <= IDLE_MAX + WINDOW, `in memory: ${offline.messages_ready_ram} of ${N}`)

  const back = await connect(url, SESSION)
  const got = await collector(back).waitFor(N, 60_000)
  assert.deepEqual(
    got.map(m => `${m.payload}`),
    payloads(0, N),
    'every message once, in publish order'
  )
  await end(back)

  // A second backlog, then a crash: the restart reads back only the short head of the session.
  await publishBacklog(url, N, 2 * N)
  await first.kill()
  const second = await start()
  assert.deepEqual(restoredLine(second), { ...restoredLine(second), inMemory: IDLE_MAX, leftInStore: N - IDLE_MAX })
  const again = await connect(`mqtt://127.0.0.1:${second.ports.mqtt}`, SESSION)
  t.after(() => end(again))
  const rest = await collector(again).waitFor(N, 60_000)
  assert.deepEqual(
    rest.map(m => `${m.payload}`),
    payloads(N, 2 * N),
    'the second backlog, in publish order, after the restart'
  )
})

test(`MQTT 5: a session that goes offline with a backlog in memory keeps only idleQueueMemoryMessagesMax (${IDLE_MAX}) of it there, and loses none [MQTT-4.4.0-1]`, {
  timeout: 180_000
}, async t => {
  const start = pagingBrokers(t, { queueMemoryMessagesMax: MEMORY_MAX, idleQueueMemoryMessagesMax: IDLE_MAX })
  const broker = await start()
  const url = `mqtt://127.0.0.1:${broker.ports.mqtt}`
  // Online but slow: it takes a window of 10 and never acknowledges, so the backlog waits in memory.
  const receiveMaximum = 10
  const { client: stalled } = await RawMqttClient.connect(broker.ports.mqtt, {
    clientId: CLIENT_ID,
    clean: false,
    properties: { sessionExpiryInterval: 3600, receiveMaximum }
  })
  stalled.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'idle-paging/#', qos: 1 }] })
  await stalled.waitFor('suback', 1)
  await publishBacklog(url, 0, N)
  await stalled.waitFor('publish', receiveMaximum)
  const online = await sessionQueue(broker, CLIENT_ID)
  assert.equal(online.messages_ready_ram, N - receiveMaximum, 'with its client connected the session holds its backlog in memory')

  await stalled.destroy()
  // The window stays with the session (sent again at its return); the ready backlog behind it pages out.
  await eventually(
    `the offline session down to ${IDLE_MAX} ready in memory`,
    async () => (await sessionQueue(broker, CLIENT_ID)).messages_ready_ram === IDLE_MAX,
    10_000
  )
  const offline = await sessionQueue(broker, CLIENT_ID)
  assert.equal(offline.messages, N)
  assert.equal(offline.messages_unacknowledged, receiveMaximum)

  const back = await connect(url, SESSION)
  t.after(() => end(back))
  const got = await collector(back).waitFor(N, 60_000)
  assert.deepEqual(
    got.map(m => `${m.payload}`),
    payloads(0, N),
    'every message once, in publish order'
  )
  assert.ok(
    got.slice(0, receiveMaximum).every(m => m.dup),
    'the window sent before the disconnect comes again with DUP set'
  )
})
