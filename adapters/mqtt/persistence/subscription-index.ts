import { createRequire } from 'node:module'
import type Database from 'better-sqlite3'
import type { SqliteStore } from '../../../core/storage/sqlite-store.ts'

// Persistent-session subscriptions: table mqtt_subscriptions, mirrored in memory (per client, and
// in a qlobber trie like aedes-persistence's memory store) so matching a publish costs no query.

export interface SubscriptionIn {
  topic: string
  qos: number
  rh?: number | undefined
  rap?: boolean | undefined
  nl?: boolean | undefined
  subscriptionIdentifier?: number | undefined
}

/** Per-client record, shaped as the memory persistence returns it. */
interface StoredSubscription {
  qos: number
  rh: number | undefined
  rap: boolean | undefined
  nl: boolean | undefined
  subscriptionIdentifier?: number
}

export interface TopicSubscription {
  clientId: string
  topic: string
  qos: number
  rh: number | undefined
  rap: boolean | undefined
  nl: boolean | undefined
}

interface QlobberSub {
  subscriptionsCount: number
  add (topic: string, sub: TopicSubscription): void
  remove (topic: string, sub: { clientId: string, topic: string }): void
  match (topic: string): TopicSubscription[]
}
type QlobberSubCtor = new (opts: { wildcard_one: string, wildcard_some: string, separator: string }) => QlobberSub

const require = createRequire(import.meta.url)
const QlobberSubImpl = require('qlobber/aedes/qlobber-sub') as QlobberSubCtor

interface SubscriptionRow {
  client_id: string
  topic: string
  qos: number
  rh: number | null
  rap: number | null
  nl: number | null
  subscription_identifier: number | null
}

const flag = (v: boolean | undefined): number | null => v === undefined ? null : (v ? 1 : 0)
const unflag = (v: number | null): boolean | undefined => v === null ? undefined : v === 1

export class SubscriptionIndex {
  private readonly byClient = new Map<string, Map<string, StoredSubscription>>()
  private readonly trie = new QlobberSubImpl({ wildcard_one: '+', wildcard_some: '#', separator: '/' })
  private readonly upsert: Database.Statement
  private readonly deleteOne: Database.Statement
  private readonly deleteClient: Database.Statement
  private readonly selectAll: Database.Statement

  constructor (private readonly store: SqliteStore) {
    const db = store.db
    this.upsert = db.prepare(`
      INSERT INTO mqtt_subscriptions (client_id, topic, qos, rh, rap, nl, subscription_identifier)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (client_id, topic) DO UPDATE SET qos = excluded.qos, rh = excluded.rh, rap = excluded.rap,
        nl = excluded.nl, subscription_identifier = excluded.subscription_identifier`)
    this.deleteOne = db.prepare('DELETE FROM mqtt_subscriptions WHERE client_id = ? AND topic = ?')
    this.deleteClient = db.prepare('DELETE FROM mqtt_subscriptions WHERE client_id = ?')
    this.selectAll = db.prepare('SELECT client_id, topic, qos, rh, rap, nl, subscription_identifier FROM mqtt_subscriptions ORDER BY id')
  }

  load (): void {
    for (const row of this.selectAll.iterate() as IterableIterator<SubscriptionRow>) {
      const sub: SubscriptionIn = { topic: row.topic, qos: row.qos, rh: row.rh ?? undefined, rap: unflag(row.rap), nl: unflag(row.nl) }
      if (row.subscription_identifier !== null) sub.subscriptionIdentifier = row.subscription_identifier
      this.addInMemory(row.client_id, sub)
    }
  }

  // Each change is applied to memory at once (so the next publish matches it) and resolves when
  // its rows are committed. The writes carry their own values, so a retried batch replays them as is.
  add (clientId: string, subs: readonly SubscriptionIn[]): Promise<void> {
    const rows: unknown[][] = []
    for (const sub of subs) {
      this.addInMemory(clientId, sub)
      rows.push([clientId, sub.topic, sub.qos, sub.rh ?? null, flag(sub.rap), flag(sub.nl), sub.subscriptionIdentifier ?? null])
    }
    return this.store.write(() => { for (const r of rows) this.upsert.run(...r) })
  }

  remove (clientId: string, topics: readonly string[]): Promise<void> {
    const stored = this.byClient.get(clientId)
    if (stored) {
      for (const topic of topics) {
        const sub = stored.get(topic)
        if (sub === undefined) continue
        if (sub.qos > 0) this.trie.remove(topic, { clientId, topic })
        stored.delete(topic)
      }
      if (stored.size === 0) this.byClient.delete(clientId)
    }
    const list = [...topics]
    return this.store.write(() => { for (const topic of list) this.deleteOne.run(clientId, topic) })
  }

  clean (clientId: string): Promise<void> {
    const stored = this.byClient.get(clientId)
    if (stored) {
      for (const [topic, sub] of stored) {
        if (sub.qos > 0) this.trie.remove(topic, { clientId, topic })
      }
      this.byClient.delete(clientId)
    }
    return this.store.write(() => { this.deleteClient.run(clientId) })
  }

  byClientId (clientId: string): Array<{ topic: string } & StoredSubscription> {
    const out: Array<{ topic: string } & StoredSubscription> = []
    for (const [topic, sub] of this.byClient.get(clientId) ?? []) out.push({ topic, ...sub })
    return out
  }

  /** QoS > 0 subscriptions matching a topic: the sessions a publish must be queued for. */
  byTopic (topic: string): TopicSubscription[] {
    return this.trie.match(topic)
  }

  count (): { subsCount: number, clientsCount: number } {
    return { subsCount: this.trie.subscriptionsCount, clientsCount: this.byClient.size }
  }

  /** Every stored subscription (all persistent sessions), for rebuilding routing at start. */
  * all (): Generator<{ clientId: string, topic: string, qos: number }> {
    for (const [clientId, subs] of this.byClient) {
      for (const [topic, sub] of subs) yield { clientId, topic, qos: sub.qos }
    }
  }

  * clientsWithFilter (filter: string): Generator<string> {
    for (const [clientId, subs] of this.byClient) {
      if (subs.has(filter)) yield clientId
    }
  }

  private addInMemory (clientId: string, sub: SubscriptionIn): void {
    let stored = this.byClient.get(clientId)
    if (!stored) { stored = new Map(); this.byClient.set(clientId, stored) }
    const previous = stored.get(sub.topic)
    const record: StoredSubscription = { qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl }
    if (sub.subscriptionIdentifier !== undefined) record.subscriptionIdentifier = sub.subscriptionIdentifier
    // QoS 0 subscriptions are restored with the session but never queue messages, so not in the trie.
    if (sub.qos > 0) {
      this.trie.add(sub.topic, { clientId, topic: sub.topic, qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl })
    } else if (previous !== undefined && previous.qos > 0) {
      this.trie.remove(sub.topic, { clientId, topic: sub.topic })
    }
    stored.set(sub.topic, record)
  }
}
