// Persistent sessions of the first version (aedes, migration 1's tables: queues named
// 'mqtt-session/<client id>' outside the model, mqtt_subscriptions, mqtt_wills) become sessions of
// this engine at the first start: a model queue per session, its subscriptions as bindings, its
// queued messages re-queued in order, its will kept. The old rows go only after the new ones are
// committed, so a crash part way re-imports (at least once) and loses nothing acknowledged.
import type Database from 'better-sqlite3'
import type { SqliteStore } from '../../core/storage/sqlite-store.ts'
import type { Queue } from '../../core/model/queue.ts'
import type { Engine } from './engine.ts'
import { mqttToCoreMessage } from './properties.ts'
import { parseSharedFilter } from './topic-grammar.ts'
import type { SharedSubscriptionRecord } from './session-store.ts'
import { prepareSharedQueue } from './shared-subscriptions.ts'

interface LegacyQueue {
  id: number
  client_id: string
}
interface LegacySubscription {
  topic: string
  qos: number
  rh: number | null
  rap: number | null
  nl: number | null
  subscription_identifier: number | null
}
interface LegacyEntry {
  topic: string
  payload: Buffer | string
  qos: number
  retain: number
}
interface LegacyWill {
  client_id: string
  topic: string
  payload: Buffer | string
  fields: string
}

const LEGACY_PREFIX = 'mqtt-session/'

/** Imports what the first version left; returns the number of sessions imported. */
export async function importLegacySessions(engine: Engine, store: SqliteStore): Promise<number> {
  const db = store.db
  const queues = db
    .prepare(`SELECT id, substr(name, ${LEGACY_PREFIX.length + 1}) AS client_id FROM queues
    WHERE name LIKE '${LEGACY_PREFIX}%' AND id NOT IN (SELECT queue_id FROM queue_definitions)`)
    .all() as LegacyQueue[]
  const subscribed = db.prepare('SELECT DISTINCT client_id FROM mqtt_subscriptions').pluck().all() as string[]
  const clients = new Map<string, number | null>(subscribed.map(c => [c, null]))
  for (const q of queues) clients.set(q.client_id, q.id)
  const wills = db.prepare('SELECT client_id, topic, payload, fields FROM mqtt_wills').all() as LegacyWill[]
  if (clients.size === 0 && wills.length === 0) return 0
  const sessions = engine.sessions
  for (const [clientId, queueId] of clients) {
    if (sessions.get(clientId) !== undefined) continue // imported by an earlier start that stopped before the cleanup
    const session = await sessions.createStored(clientId)
    const shared: SharedSubscriptionRecord[] = []
    for (const s of db
      .prepare('SELECT topic, qos, rh, rap, nl, subscription_identifier FROM mqtt_subscriptions WHERE client_id = ? ORDER BY id')
      .all(clientId) as LegacySubscription[]) {
      const qos = Math.min(Math.max(s.qos, 0), 2) as 0 | 1 | 2
      const sid = s.subscription_identifier ?? undefined
      const sf = parseSharedFilter(s.topic)
      if (sf !== null) {
        if (typeof sf === 'string') continue
        await prepareSharedQueue(engine.vhost, engine.exchange, sf)
        shared.push({
          filter: s.topic,
          qos,
          ...(sid === undefined ? {} : { subscriptionId: sid }),
          ...(s.rap === 1 ? { retainAsPublished: true as const } : {})
        })
        continue
      }
      await session.subscribe({
        filter: s.topic,
        qos,
        noLocal: s.nl === 1,
        retainAsPublished: s.rap === 1,
        retainHandling: (s.rh ?? 0) as 0 | 1 | 2,
        subscriptionId: sid
      })
    }
    if (shared.length > 0) sessions.adoptShared(session, shared)
    const writes: Array<Promise<void>> = [sessions.persist(session, null)]
    if (queueId !== null) writes.push(...requeue(engine, db, queueId, session.queue))
    await Promise.all(writes)
  }
  for (const w of wills) {
    const fields = JSON.parse(w.fields) as { qos?: number; retain?: boolean }
    const payload = typeof w.payload === 'string' ? Buffer.from(w.payload) : w.payload
    // Its connection was cut by the stop: published now, as this engine does with its own.
    sessions.publishCutWill(w.client_id, {
      topic: w.topic,
      payload,
      qos: (fields.qos ?? 0) as 0 | 1 | 2,
      retain: fields.retain === true,
      delaySeconds: 0,
      properties: undefined
    })
  }
  await store.write(() => dropLegacyRows(db, [...queues.map(q => q.id)]))
  engine.log.info('mqtt: sessions of the first version imported', { sessions: clients.size, wills: wills.length })
  return clients.size
}

/** The old entries, in order, into the session's model queue (stored as new messages). */
function requeue(engine: Engine, db: Database.Database, queueId: number, queue: Queue): Array<Promise<void>> {
  const rows = db
    .prepare(`SELECT m.topic AS topic, m.payload AS payload, e.qos AS qos, e.retain AS retain
    FROM queue_entries e JOIN messages m ON m.id = e.message_id WHERE e.queue_id = ? AND e.kind = 0 ORDER BY e.seq`)
    .all(queueId) as LegacyEntry[]
  const writes: Array<Promise<void>> = []
  for (const r of rows) {
    const payload = typeof r.payload === 'string' ? Buffer.from(r.payload) : r.payload
    const qos = Math.min(Math.max(r.qos, 0), 2) as 0 | 1 | 2
    // A QoS 0 entry of an offline session was kept by the first version too: it stays, as QoS 0.
    const message = mqttToCoreMessage({ topic: r.topic, payload, qos, retain: r.retain === 1, properties: undefined }, engine.exchange, engine.nowMs())
    const stored = engine.vhost.enqueueTo(queue, message).stored
    if (stored !== undefined) writes.push(stored)
  }
  return writes
}

function dropLegacyRows(db: Database.Database, queueIds: number[]): void {
  for (const id of queueIds) {
    db.prepare('UPDATE messages SET refs = refs - 1 WHERE id IN (SELECT message_id FROM queue_entries WHERE queue_id = ? AND message_id IS NOT NULL)').run(id)
    db.prepare('DELETE FROM queue_entries WHERE queue_id = ?').run(id)
    db.prepare('DELETE FROM queues WHERE id = ?').run(id)
  }
  db.prepare('DELETE FROM messages WHERE refs <= 0').run()
  db.prepare('DELETE FROM mqtt_subscriptions').run()
  db.prepare('DELETE FROM mqtt_wills').run()
  db.prepare('DELETE FROM mqtt_incoming').run()
}
