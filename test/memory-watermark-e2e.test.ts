// The memory watermark (runtime.heapWatermarkRatio) through a broker process with a small V8 heap
// (--max-old-space-size, as on a small edge box). Without it, a durable queue of small persistent
// messages grew until V8 aborted the process (measured: 166,000 64-byte messages in a 160 MB heap,
// far below any byte bound on bodies), and every publisher lost its connection. With it: amqplib
// gets connection.blocked with the reason, an MQTT 5 QoS 1 publish gets PUBACK 0x97, the process
// stays up and /api/diagnose names the cause; deleting the queue clears it (the watermark runs a full GC while it holds), the held
// publishes are confirmed and MQTT publishes are acknowledged again.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBrokerProcess } from './support/broker-process.ts'
import { channel, closeQuietly, connect as amqpConnect } from './support/amqp-helpers.ts'
import { connect as mqttConnect, end } from './support/mqtt-helpers.ts'
import { metricValue, metricsText } from './support/tiering-e2e.ts'
import { adminFetch } from './support/admin-http.ts'
import { fillUntilBlocked, nextConnectionEvent } from './support/amqp-alarm.ts'

const QUEUE = 'fill'
const HEAP_MB = 96
const BODY = Buffer.alloc(64, 'm')
/** Far more than the heap holds at ~800 bytes a queued message: a broker that never blocks fails the test. */
const MESSAGES_MAX = 2_000_000

test('memory watermark: a backlog that would abort a small heap blocks AMQP publishers and refuses MQTT QoS 1 (0x97) instead, until the queue goes', {
  timeout: 180_000
}, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-memory-watermark-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const configFile = join(dir, 'wharf.yaml')
  // Every message in memory (no paging out to SQLite): a durable queue's backlog is what fills the heap here.
  writeFileSync(configFile, 'runtime:\n  heapWatermarkRatio: 0.5\n  heapCheckIntervalMs: 200\nstorage:\n  queueMemoryMessagesMax: 0\n')
  const nodeOptions = `${process.env['NODE_OPTIONS'] ?? ''} --max-old-space-size=${HEAP_MB}`.trim()
  const broker = await startBrokerProcess(join(dir, 'data'), { NODE_OPTIONS: nodeOptions }, ['--config', configFile])
  t.after(async () => {
    if (broker.child.exitCode === null) await broker.kill()
  })
  const adminUrl = `http://127.0.0.1:${broker.ports.admin}`
  const amqpUrl = `amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`
  const mqttUrl = `mqtt://127.0.0.1:${broker.ports.mqtt}`

  const admin = await amqpConnect(amqpUrl)
  const conn = await amqpConnect(amqpUrl)
  t.after(() => closeQuietly(conn, admin))
  const setup = await channel(admin)
  await setup.assertQueue(QUEUE, { durable: true })
  const cc = await conn.createConfirmChannel()
  cc.on('error', () => {})

  const blocked = nextConnectionEvent(conn, 'blocked', 120_000)
  const filled = await fillUntilBlocked(cc, blocked, { queue: QUEUE, body: BODY, batch: 1000, messagesMax: MESSAGES_MAX, numbered: false })
  const reason = String(await blocked)
  assert.match(reason, /^live heap .* over the memory watermark .* \(runtime\.heapWatermarkRatio\)$/, 'connection.blocked carries the reason')
  t.diagnostic(`blocked after ${filled.confirmed} confirmed (${filled.sent} sent) messages: ${reason}`)
  const metrics = await metricsText(adminUrl)
  assert.equal(metricValue(metrics, 'wharf_memory_publishers_blocked'), 1)
  const watermarkBytes = metricValue(metrics, 'wharf_memory_heap_watermark_bytes') ?? 0
  // Half of V8's heap limit, which is the old generation's (--max-old-space-size) plus the young one's.
  const oldSpaceBytes = HEAP_MB * 1024 * 1024
  assert.ok(watermarkBytes >= oldSpaceBytes / 2 && watermarkBytes < oldSpaceBytes, `the watermark is ${watermarkBytes} bytes`)
  // Above the resume level (90%): a full GC since the block may have found it a little under the watermark.
  const liveBytes = metricValue(metrics, 'wharf_memory_heap_live_bytes') ?? 0
  assert.ok(liveBytes > 0.9 * watermarkBytes, `live heap ${liveBytes} bytes, watermark ${watermarkBytes}`)

  const diagnosis = await adminFetch(`${adminUrl}/api/diagnose`, { signal: AbortSignal.timeout(5000) })
  assert.equal(diagnosis.status, 200)
  const { node } = (await diagnosis.json()) as { node: Array<{ cause: string; summary: string; numbers: Record<string, unknown> }> }
  const finding = node.find(f => f.cause === 'publishers-blocked-memory')
  assert.match(
    finding?.summary ?? '',
    // The publisher is counted once it publishes into the alarm (its reads then stop): its last batch may have been read before.
    /^publishers are refused at the memory watermark: live heap .* \([01] AMQP connections blocked, 0 MQTT publishes refused\)$/
  )
  assert.equal(finding?.numbers['heapBytesMax'], watermarkBytes, '/api/diagnose names the cause with its figures')

  const device = await mqttConnect(mqttUrl, { clientId: 'refused-device', protocolVersion: 5 })
  t.after(() => end(device))
  await assert.rejects(device.publishAsync('plant/refused', 'reading', { qos: 1 }), /Quota exceeded/, 'an MQTT 5 QoS 1 publish gets PUBACK 0x97')
  assert.ok(
    broker.lines.some(l => /"msg":"publishers blocked".*runtime\.heapWatermarkRatio/.test(l)),
    'the gate logs the block and its reason'
  )

  const unblocked = nextConnectionEvent(conn, 'unblocked', 60_000)
  const deleted = await setup.deleteQueue(QUEUE)
  assert.ok(
    deleted.messageCount >= filled.confirmed && deleted.messageCount <= filled.sent,
    `${deleted.messageCount} messages deleted; ${filled.confirmed} were confirmed, ${filled.sent} sent: nothing confirmed was dropped`
  )
  await unblocked
  await cc.waitForConfirms() // the publishes held while blocked are read and confirmed now
  await device.publishAsync('plant/accepted', 'reading', { qos: 1 }) // resolves on PUBACK 0x00
  assert.equal(metricValue(await metricsText(adminUrl), 'wharf_memory_publishers_blocked'), 0)
  assert.ok(broker.lines.some(l => /"msg":"memory watermark: cleared"/.test(l)))
  assert.equal(broker.child.exitCode, null, 'the broker never stopped')
  assert.equal(await broker.terminate(), 0, 'and it drains and exits cleanly')
})
