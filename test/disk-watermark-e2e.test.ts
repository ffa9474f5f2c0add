// The local disk watermark through a running broker (issue 5, DESIGN.md §4): with storage.localBytesMax
// just above the SQLite files' size at start, persistent messages in a durable queue fill the store
// until the broker refuses publishers: amqplib gets connection.blocked, an MQTT QoS 1 publish gets no
// PUBACK (the connection closes), wharf_mqtt_publish_refused_total counts it and the log says why.
// Deleting the queue frees the space (free pages are subtracted), the watermark clears: amqplib gets
// connection.unblocked, its held publishes are confirmed, and MQTT QoS 1 publishes are acked again.
// Nothing waits for a time figure: every wait is an event or a bounded poll.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import type { ChannelModel } from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect as amqpConnect } from './support/amqp-helpers.ts'
import { closed, connect as mqttConnect } from './support/mqtt-helpers.ts'
import { metricValue, metricsText, pollUntil, tieringStatus } from './support/tiering-e2e.ts'
import { fillUntilBlocked, nextConnectionEvent } from './support/amqp-alarm.ts'

const QUEUE = 'fill'
/** Room above the files' size at start: a few hundred 4 KiB messages fill it. */
const HEADROOM_BYTES = 1024 * 1024
const BODY = Buffer.alloc(4096, 'w')

function sqliteFilesBytes(dataDir: string): number {
  const db = join(dataDir, 'wharf.db')
  return [db, `${db}-wal`, `${db}-shm`].reduce((n, f) => {
    try {
      return n + statSync(f).size
    } catch {
      return n
    }
  }, 0)
}

test('disk watermark: AMQP connection.blocked and MQTT QoS 1 refused (counted, logged) until deleting the queue frees the space', {
  timeout: 120_000
}, async t => {
  // The files' size at start, measured on a first start of the same data directory.
  const first = await startTestBroker()
  const dataDir = first.dataDir
  await first.stop()
  const initialBytes = sqliteFilesBytes(dataDir)
  const localBytesMax = initialBytes + HEADROOM_BYTES

  let broker: TestBroker | undefined
  let conn: ChannelModel | undefined
  let admin: ChannelModel | undefined
  const devices: Array<Awaited<ReturnType<typeof mqttConnect>>> = []
  try {
    broker = await startTestBroker(config => {
      config.log.level = 'info'
      config.storage.localBytesMax = localBytesMax
      config.storage.diskCheckIntervalMs = 20
      config.tiering.localBytesMax = 64 * 1024 // below storage.localBytesMax, as validation requires
    }, dataDir)
    const adminUrl = broker.adminUrl
    assert.equal((await tieringStatus(adminUrl)).disk.blocked, null, 'not blocked at start')

    conn = await amqpConnect(broker.amqpUrl)
    admin = await amqpConnect(broker.amqpUrl)
    const setup = await channel(admin)
    await setup.assertQueue(QUEUE, { durable: true })
    const cc = await conn.createConfirmChannel()
    cc.on('error', () => {})

    const blocked = nextConnectionEvent(conn, 'blocked', 60_000)
    const filled = await fillUntilBlocked(cc, blocked, { queue: QUEUE, body: BODY, batch: 20, messagesMax: 20_000, numbered: true })
    const reason = await blocked
    assert.match(String(reason), /storage\.localBytesMax/, 'connection.blocked carries the reason')
    const status = await tieringStatus(adminUrl)
    assert.match(status.disk.blocked ?? '', /over storage\.localBytesMax/)
    t.diagnostic(`blocked after ${filled.confirmed} confirmed (${filled.sent} sent) messages: ${String(reason)}`)

    // MQTT: a QoS 1 publish is not acknowledged; the broker closes the connection instead.
    const device = await mqttConnect(broker.mqttUrl, { clientId: 'refused-device' })
    devices.push(device)
    let pubacked = false
    const gone = closed(device, 10_000)
    device.publish('plant/refused', 'reading', { qos: 1 }, err => {
      if (err === undefined || err === null) pubacked = true
    })
    await gone
    assert.equal(pubacked, false, 'no PUBACK while the store is over its watermark')
    const metrics = await metricsText(adminUrl)
    assert.ok((metricValue(metrics, 'wharf_mqtt_publish_refused_total') ?? 0) >= 1, 'the refusal is counted')
    assert.equal(metricValue(metrics, 'wharf_store_publishers_blocked'), 1)
    assert.ok(
      broker.logs.some(
        l => l.level === 'warn' && /^mqtt publish refused: local store .* over storage\.localBytesMax/.test(String(l.msg)) && l.clientId === 'refused-device'
      ),
      'the refusal is logged with its reason and the client'
    )
    assert.ok(broker.logs.some(l => l.msg === 'publishers blocked' && /storage\.localBytesMax/.test(String(l.reason))))

    // Clearing: the queue's messages go; SQLite keeps its file but reuses the freed pages.
    const unblocked = nextConnectionEvent(conn, 'unblocked', 30_000)
    const deleted = await setup.deleteQueue(QUEUE)
    assert.ok(
      deleted.messageCount >= filled.confirmed && deleted.messageCount <= filled.sent,
      `${deleted.messageCount} messages deleted; ${filled.confirmed} were confirmed, ${filled.sent} sent`
    )
    await unblocked
    await pollUntil(
      'the watermark to clear in /api/tiering',
      () => tieringStatus(adminUrl),
      s => s.disk.blocked === null,
      10_000
    )
    await cc.waitForConfirms() // publishes held while blocked are read and confirmed now
    cc.sendToQueue('', BODY, { persistent: true }) // the default exchange, no such queue: confirmed as unroutable
    await cc.waitForConfirms()

    const again = await mqttConnect(broker.mqttUrl, { clientId: 'accepted-device' })
    devices.push(again)
    await again.publishAsync('plant/accepted', 'reading', { qos: 1 }) // resolves on PUBACK
    assert.ok(broker.logs.some(l => l.msg === 'publishing accepted again'))
    t.diagnostic(`cleared: SQLite files ${sqliteFilesBytes(dataDir)} bytes, watermark ${localBytesMax}`)
  } finally {
    for (const d of devices) d.end(true)
    await closeQuietly(conn, admin)
    await broker?.close()
  }
})
