// An MQTT 5 persistent session whose client is offline keeps only storage.idleQueueMemoryMessagesMax
// of its backlog in memory, far below storage.queueMemoryMessagesMax: a few hundred offline devices
// with long backlogs must not fill the heap. The client gets everything in order when it comes back,
// and a restart reads back only that short head of each session.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBrokerProcess, type BrokerProcess } from './support/broker-process.ts'
import { collector, connect, end } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'

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

async function sessionQueue(broker: BrokerProcess): Promise<{ messages: number; messages_ready_ram: number }> {
  const res = await adminFetch(`http://127.0.0.1:${broker.ports.admin}/api/queues/%2F/mqtt-session%2F${CLIENT_ID}`)
  assert.equal(res.status, 200)
  return (await res.json()) as { messages: number; messages_ready_ram: number }
}

function restoredLine(broker: BrokerProcess): { inMemory?: number; leftInStore?: number } | undefined {
  for (const line of broker.lines) {
    try {
      const entry = JSON.parse(line) as { msg?: string; inMemory?: number; leftInStore?: number }
      if (entry.msg === 'queues restored') return entry
    } catch {}
  }
  return undefined
}

test(`MQTT 5: an offline session keeps idleQueueMemoryMessagesMax (${IDLE_MAX}) of its backlog in memory, not queueMemoryMessagesMax (${MEMORY_MAX}), and loses none [MQTT-4.1.0-1]`, {
  timeout: 180_000
}, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-paging-idle-e2e-'))
  const configFile = join(dir, 'wharf.yaml')
  writeFileSync(configFile, `storage:\n  queueMemoryMessagesMax: ${MEMORY_MAX}\n  idleQueueMemoryMessagesMax: ${IDLE_MAX}\n`)
  const started: BrokerProcess[] = []
  const start = async (): Promise<BrokerProcess> => {
    const broker = await startBrokerProcess(join(dir, 'data'), {}, ['--config', configFile])
    started.push(broker)
    return broker
  }
  t.after(async () => {
    await Promise.all(started.map(b => b.kill()))
    rmSync(dir, { recursive: true, force: true })
  })

  const first = await start()
  const url = `mqtt://127.0.0.1:${first.ports.mqtt}`
  const sub = await connect(url, SESSION)
  await sub.subscribeAsync('idle-paging/#', { qos: 1 })
  await end(sub)

  await publishBacklog(url, 0, N)
  const offline = await sessionQueue(first)
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
