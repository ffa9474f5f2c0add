// The QoS 2 receipts of a bridge in SQLite: kept across a reopen (a restart), per remote session
// (client id), released and cleared for good; memory only without a store.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '../../core/storage/sqlite-store.ts'
import { migrations } from '../../core/storage/migrations.ts'
import { DownlinkReceipts } from './downlink-receipts.ts'

function open(dir: string): SqliteStore {
  return SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 1000, migrations })
}

test('receipts outlive a restart, per client id; released and cleared ones do not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-receipts-'))
  try {
    let store = open(dir)
    let r = new DownlinkReceipts(store, 'cloud')
    r.open('edge-a')
    await Promise.all([r.add(1), r.add(2), r.add(3)])
    await r.release(2)
    store.close()

    store = open(dir)
    r = new DownlinkReceipts(store, 'cloud')
    r.open('edge-a')
    assert.deepEqual([r.has(1), r.has(2), r.has(3)], [true, false, true])
    await r.clear()
    await r.add(7)
    store.close()

    store = open(dir)
    r = new DownlinkReceipts(store, 'cloud')
    r.open('edge-b') // the client id changed: edge-a's session is not this one
    assert.equal(r.size, 0)
    await r.add(9)
    store.close()

    store = open(dir)
    r = new DownlinkReceipts(store, 'cloud')
    r.open('edge-b')
    assert.deepEqual([r.has(9), r.size], [true, 1])
    const rows = store.db.prepare('SELECT bridge, client_id, packet_id FROM bridge_qos2_received ORDER BY bridge').all()
    assert.deepEqual(rows, [{ bridge: 'cloud', client_id: 'edge-b', packet_id: 9 }], "edge-a's receipt 7 went when edge-b was opened")
    store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the receipts of a bridge no longer configured are dropped; those of configured ones stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-receipts-'))
  try {
    const store = open(dir)
    for (const [bridge, id] of [
      ['cloud', 1],
      ['gone', 2],
      ['gone', 3]
    ] as const) {
      const r = new DownlinkReceipts(store, bridge)
      r.open('edge-a')
      await r.add(id)
    }
    assert.equal(await DownlinkReceipts.forgetUnconfigured(store, ['cloud', 'other']), 2)
    const rows = store.db.prepare('SELECT bridge, packet_id FROM bridge_qos2_received').all()
    assert.deepEqual(rows, [{ bridge: 'cloud', packet_id: 1 }])
    assert.equal(await DownlinkReceipts.forgetUnconfigured(store, []), 1, 'no bridges configured: none are kept')
    assert.equal(await DownlinkReceipts.forgetUnconfigured(null, []), 0)
    store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('without a store the receipts are kept in memory', async () => {
  const r = new DownlinkReceipts(null, 'cloud')
  r.open('edge-a')
  await r.add(5)
  assert.equal(r.has(5), true)
  await r.release(5)
  assert.equal(r.has(5), false)
})
