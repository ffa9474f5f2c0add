// What the paging tests share (queue-paging*.test.ts): a broker on a real SQLite store with a small
// storage.queueMemoryMessagesMax, and helpers to publish, drain and make messages.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '../../storage/sqlite-store.ts'
import { silentLogger } from '../../logger.ts'
import { Broker } from '../broker.ts'
import { Message } from '../message.ts'
import { ManualClock } from '../../manual-clock.ts'
import type { Vhost } from '../vhost.ts'
import { ClassicQueue } from '../classic-queue.ts'
import { SqliteDurableStore } from './sqlite-durable-store.ts'
import { Taker, committed, jsonCodec } from './model-store.test-support.ts'

export const owner = {}
export const MEMORY_MAX = 10

export interface Node {
  readonly broker: Broker
  readonly vhost: Vhost
  readonly store: SqliteStore
  readonly clock: ManualClock
}

/** idleMax: storage.idleQueueMemoryMessagesMax; absent: memoryMax, as the model's default. */
export function open(dir: string, memoryMax = MEMORY_MAX, idleMax?: number): Node {
  const clock = new ManualClock()
  const store = SqliteStore.open({ dataDir: dir, durability: 'process', commitWindowMs: 0, commitBatchMax: 1000 })
  const durable = new SqliteDurableStore(store, jsonCodec, () => clock.nowMs(), silentLogger)
  const broker = new Broker({ vhosts: ['/'], store: durable, clock, queueMemoryMessagesMax: memoryMax, idleQueueMemoryMessagesMax: idleMax ?? memoryMax })
  return { broker, vhost: broker.vhost('/') as Vhost, store, clock }
}

export const persistent = (key: string, body: string): Message => new Message('', key, { deliveryMode: 2 }, Buffer.from(body), 1000, null)
export const transient = (key: string, body: string): Message => new Message('', key, {}, Buffer.from(body), 1000, null)

export async function declare(v: Vhost, name: string, args: Record<string, unknown> = {}): Promise<ClassicQueue> {
  await v.declareQueue({ name, durable: true, exclusive: false, autoDelete: false, arguments: args }, owner, false)
  const q = v.queue(name, owner)
  assert.ok(q instanceof ClassicQueue)
  return q
}

/** Publishes one at a time, each committed before the next: every one but the last is paged out once over the bound. */
export async function publishEach(v: Vhost, queue: string, bodies: readonly string[], make = persistent): Promise<void> {
  for (const b of bodies) await v.publish('', make(queue, b)).stored
}

/** Takes every message, acking each as it comes, until `n` arrived (entries are read back as the head drains). */
export async function drain(node: Node, queue: string, n: number): Promise<Array<{ body: string; redelivered: boolean }>> {
  const taker = new Taker(n)
  const q = node.vhost.consume(queue, taker, owner)
  const out: Array<{ body: string; redelivered: boolean }> = []
  for (let round = 0; round < n + 10 && out.length < n; round++) {
    q.dispatch()
    await committed(node.store)
    for (const { entry, redelivered } of taker.got.splice(0)) {
      out.push({ body: entry.message.body.toString(), redelivered })
      q.settle(entry, 'acked')
    }
  }
  node.vhost.cancel(q, taker)
  await committed(node.store)
  return out
}

export const bodies = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `m${from + i}`)

export function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wharf-paging-'))
    try {
      await fn(dir)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
