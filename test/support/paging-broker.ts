// What the end-to-end paging tests share (queue-paging-*.test.ts): broker processes on one data
// directory with a storage config, an MQTT session's queue as the management API shows it, and the
// start-up line on what a restart left in the store.
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { brokersOnOneDataDir, type BrokerProcess } from './broker-process.ts'
import { adminFetch } from './admin-http.ts'

/** Starts (and restarts) brokers on one temp data dir with `storage` settings; every one is killed and the dir removed after the test. */
export function pagingBrokers(t: TestContext, storage: Record<string, number>): () => Promise<BrokerProcess> {
  const yaml = `storage:\n${Object.entries(storage)
    .map(([k, v]) => `  ${k}: ${v}\n`)
    .join('')}`
  const brokers = brokersOnOneDataDir(t, 'wharf-paging-e2e-', yaml)
  return () => brokers.start()
}

export interface SessionQueue {
  messages: number
  messages_unacknowledged: number
  messages_ready_ram: number
}

export async function sessionQueue(broker: BrokerProcess, clientId: string): Promise<SessionQueue> {
  const res = await adminFetch(`http://127.0.0.1:${broker.ports.admin}/api/queues/%2F/mqtt-session%2F${encodeURIComponent(clientId)}`)
  assert.equal(res.status, 200)
  return (await res.json()) as SessionQueue
}

/** The start-up log line `queues restored`: what was read back, what stayed in the store, what was dropped. */
export function restoredLine(broker: BrokerProcess): { inMemory?: number; leftInStore?: number; transientDropped?: number } | undefined {
  for (const line of broker.lines) {
    try {
      const entry = JSON.parse(line) as { msg?: string; inMemory?: number; leftInStore?: number; transientDropped?: number }
      if (entry.msg === 'queues restored') return entry
    } catch {}
  }
  return undefined
}
