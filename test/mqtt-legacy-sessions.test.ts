// Upgrade from the first version (aedes): its persistent sessions, offline messages and wills, in
// migration 1's tables, become sessions of the engine at the first start; nothing queued is lost.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '../core/storage/sqlite-store.ts'
import { startTestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'

/** Rows as the first version wrote them: a session queue outside the model, its entries, subscriptions, a will. */
function writeFirstVersionRows(dataDir: string): void {
  const store = SqliteStore.open({ dataDir, durability: 'process', commitWindowMs: 0, commitBatchMax: 100, checkpointIntervalMs: 0, walBytesMax: 1 << 26 })
  try {
    const db = store.db
    const queueId = Number(db.prepare("INSERT INTO queues (name, created_ms) VALUES ('mqtt-session/old-device', 1)").run().lastInsertRowid)
    const insertMessage = db.prepare(`INSERT INTO messages (topic, payload, payload_bytes, qos, retain, properties, origin_id, origin_seq, refs, created_ms)
      VALUES (?, ?, ?, 1, 0, NULL, 'aedes', ?, 1, 1)`)
    for (let i = 0; i < 5; i++) {
      const payload = Buffer.from(`queued-${i}`)
      const id = Number(insertMessage.run('legacy/data', payload, payload.length, i).lastInsertRowid)
      db.prepare('INSERT INTO queue_entries (queue_id, seq, message_id, origin_seq, qos, retain, kind, mqtt_packet_id) VALUES (?, ?, ?, ?, 1, 0, 0, NULL)').run(
        queueId,
        i + 1,
        id,
        i
      )
    }
    db.prepare("INSERT INTO mqtt_subscriptions (client_id, topic, qos) VALUES ('old-device', 'legacy/#', 1)").run()
    db.prepare(
      `INSERT INTO mqtt_wills (client_id, broker_id, topic, payload, fields, created_ms) VALUES ('cut-device', NULL, 'wills/cut-device', ?, '{"qos":1,"retain":true}', 1)`
    ).run(Buffer.from('gone'))
  } finally {
    store.close()
  }
}

test('a first-version persistent session resumes with its queued messages in order and its subscription; its will is published; imported once', {
  timeout: 30_000
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-legacy-'))
  writeFirstVersionRows(dataDir)
  let broker = await startTestBroker(() => {}, dataDir)
  try {
    assert.ok(broker.logs.some(l => l.msg === 'mqtt: sessions of the first version imported' && l.sessions === 1))
    const back = await connect(broker.mqttUrl, { clientId: 'old-device', clean: false })
    const got = collector(back)
    assert.deepEqual(
      (await got.waitFor(5)).map(m => m.payload),
      ['queued-0', 'queued-1', 'queued-2', 'queued-3', 'queued-4']
    )
    const pub = await connect(broker.mqttUrl, { clientId: 'legacy-pub' })
    await pub.publishAsync('legacy/data', 'after-upgrade', { qos: 1 })
    assert.equal((await got.waitFor(6))[5]?.payload, 'after-upgrade')
    // The cut connection's will was published retained: a new subscriber gets it.
    const late = await connect(broker.mqttUrl, { clientId: 'legacy-late' })
    const lateGot = collector(late)
    await late.subscribeAsync('wills/cut-device', { qos: 1 })
    assert.equal((await lateGot.waitFor(1))[0]?.payload, 'gone')
    await end(back, pub, late)
    await broker.stop()
    broker = await startTestBroker(() => {}, dataDir)
    assert.ok(!broker.logs.some(l => l.msg === 'mqtt: sessions of the first version imported'), 'imported once')
    const again = await connect(broker.mqttUrl, { clientId: 'old-device', clean: false })
    assert.equal(again.connected, true)
    await end(again)
  } finally {
    await broker.close()
  }
})
