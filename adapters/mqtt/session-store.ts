// What an MQTT session keeps beyond its model queue (migration 4): the expiry, the $share
// subscriptions, the will, inbound QoS 2 packet identifiers, (migration 11) outbound QoS 2
// packet identifiers between PUBREC and PUBCOMP, and (migration 15) outbound packet identifiers a
// restart could not work out again. Written through the store's group commit; read once at start.
import type Database from 'better-sqlite3'
import type { SqliteStore } from '../../core/storage/sqlite-store.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { PublishProperties } from './properties.ts'
import type { PacketIdStore } from './session-host.ts'

export interface StoredSession {
  readonly clientId: string
  /** null: never expires. */
  readonly expirySeconds: number | null
  /** null while connected (at the crash) or never expiring. */
  readonly expiresAtMs: number | null
  readonly shared: SharedSubscriptionRecord[]
}

export interface SharedSubscriptionRecord {
  readonly filter: string
  readonly qos: 0 | 1 | 2
  readonly subscriptionId?: number
  /** Retain As Published; absent: 0 (rows stored before it was kept read as 0). */
  readonly retainAsPublished?: true
}

export interface WillRecord {
  readonly topic: string
  readonly payload: Buffer
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
  readonly delaySeconds: number
  readonly properties: PublishProperties | undefined
}

/** The packet id a delivery of a queue's entry went out under, to a session (mqtt_outbound_ids). */
export interface StoredOutboundId {
  readonly queue: string
  readonly seq: number
  readonly clientId: string
  readonly packetId: number
}

interface SessionRow {
  client_id: string
  expiry_seconds: number | null
  expires_at_ms: number | null
  shared: string
}
interface WillRow {
  client_id: string
  topic: string
  payload: Buffer
  qos: number
  retain: number
  delay_seconds: number
  properties: string | null
}

export class SessionStore implements PacketIdStore {
  private readonly sql: ReturnType<typeof prepare>

  constructor(
    private readonly store: SqliteStore,
    private readonly vhost: string
  ) {
    this.sql = prepare(store.db)
  }

  loadSessions(): StoredSession[] {
    return (this.sql.loadSessions.all(this.vhost) as SessionRow[]).map(r => ({
      clientId: r.client_id,
      expirySeconds: r.expiry_seconds,
      expiresAtMs: r.expires_at_ms,
      shared: JSON.parse(r.shared) as SharedSubscriptionRecord[]
    }))
  }

  loadWills(): Map<string, WillRecord> {
    const out = new Map<string, WillRecord>()
    for (const r of this.sql.loadWills.all(this.vhost) as WillRow[]) {
      out.set(r.client_id, {
        topic: r.topic,
        payload: r.payload,
        qos: r.qos as 0 | 1 | 2,
        retain: r.retain === 1,
        delaySeconds: r.delay_seconds,
        properties: r.properties === null ? undefined : decodeProperties(r.properties)
      })
    }
    return out
  }

  loadQos2(): Map<string, Set<number>> {
    const out = new Map<string, Set<number>>()
    for (const r of this.sql.loadQos2.all(this.vhost) as Array<{ client_id: string; packet_id: number }>) {
      let ids = out.get(r.client_id)
      if (ids === undefined) {
        ids = new Set()
        out.set(r.client_id, ids)
      }
      ids.add(r.packet_id)
    }
    return out
  }

  /** Outbound QoS 2 packet ids waiting for PUBCOMP, by client id, in the order their PUBRECs came [MQTT-4.6.0-4]. */
  loadPubrels(): Map<string, number[]> {
    const out = new Map<string, number[]>()
    for (const r of this.sql.loadPubrels.all(this.vhost) as Array<{ client_id: string; packet_id: number }>) {
      let ids = out.get(r.client_id)
      if (ids === undefined) {
        ids = []
        out.set(r.client_id, ids)
      }
      ids.push(r.packet_id)
    }
    return out
  }

  /** Outbound packet ids stored for deliveries in flight at the stop. */
  loadOutboundIds(): StoredOutboundId[] {
    return (this.sql.loadOutboundIds.all(this.vhost) as Array<{ queue: string; seq: number; client_id: string; packet_id: number }>).map(r => ({
      queue: r.queue,
      seq: r.seq,
      clientId: r.client_id,
      packetId: r.packet_id
    }))
  }

  putSession(clientId: string, expirySeconds: number | null, expiresAtMs: number | null, shared: readonly SharedSubscriptionRecord[]): Promise<void> {
    const row = [this.vhost, clientId, expirySeconds, expiresAtMs, JSON.stringify(shared)]
    return this.store.write(() => {
      this.sql.putSession.run(...row)
    })
  }

  /** The session is gone: its row, will, QoS 2 state and stored packet ids (its queue goes through the model). */
  deleteSession(clientId: string): Promise<void> {
    return this.store.write(() => {
      this.sql.deleteSession.run(this.vhost, clientId)
      this.sql.deleteWill.run(this.vhost, clientId)
      this.sql.deleteQos2All.run(this.vhost, clientId)
      this.sql.deletePubrelAll.run(this.vhost, clientId)
      this.sql.deleteOutboundIdsOf.run(this.vhost, clientId)
    })
  }

  putWill(clientId: string, w: WillRecord): Promise<void> {
    const row = [
      this.vhost,
      clientId,
      w.topic,
      w.payload,
      w.qos,
      w.retain ? 1 : 0,
      w.delaySeconds,
      w.properties === undefined ? null : encodeProperties(w.properties)
    ]
    return this.store.write(() => {
      this.sql.putWill.run(...row)
    })
  }

  deleteWill(clientId: string): Promise<void> {
    return this.store.write(() => {
      this.sql.deleteWill.run(this.vhost, clientId)
    })
  }

  putQos2(clientId: string, packetId: number): Promise<void> {
    return this.store.write(() => {
      this.sql.putQos2.run(this.vhost, clientId, packetId)
    })
  }

  /** Resolves once the deletion is committed: the PUBCOMP waits for it [MQTT-4.3.3-12]. */
  deleteQos2(clientId: string, packetId: number): Promise<void> {
    return this.store.write(() => {
      this.sql.deleteQos2.run(this.vhost, clientId, packetId)
    })
  }

  deleteQos2All(clientId: string): Promise<void> {
    return this.store.write(() => {
      this.sql.deleteQos2All.run(this.vhost, clientId)
    })
  }

  /**
   * PUBREC of a QoS 2 delivery: the packet id is stored in the commit that deletes the delivered
   * entry (the deletion `settle` queues), and the promise resolves after that commit. One commit,
   * because either half alone after a crash breaks the exchange: the entry deleted without the id,
   * and the PUBREL is never sent again (the client keeps the id, and takes a later PUBLISH under it
   * for a resend [MQTT-4.4.0-1]); the id without the deletion, and the message goes again, under
   * another id, beside its PUBREL (a second delivery of a QoS 2 message). The model defers that
   * deletion (writeDeferred), but a deferred write queued now still commits in the transaction of
   * any write queued in the same turn, unless commitBatchMax commits the batch early between the
   * two: together() keeps that check until both are queued. The delivery's stored packet id, if
   * it had one, goes in that commit too: the PUBREL's row takes its place.
   */
  putPubrel(clientId: string, packetId: number, settle: () => void, stored: QueueEntry | undefined): Promise<void> {
    let put: Promise<void> = Promise.resolve()
    const key = stored === undefined ? undefined : [this.vhost, stored.queue.name, stored.seq]
    this.store.together(() => {
      put = this.store.write(() => {
        this.sql.putPubrel.run(this.vhost, clientId, packetId)
        if (key !== undefined) this.sql.deleteOutboundId.run(...key)
      })
      settle()
    })
    return put
  }

  /** PUBCOMP (or a refusing PUBREC): the id is free again once this commits. */
  deletePubrel(clientId: string, packetId: number): Promise<void> {
    return this.store.write(() => {
      this.sql.deletePubrel.run(this.vhost, clientId, packetId)
    })
  }

  /** REPLACE: an entry sent again under a new id (its stored one was in use) keeps only the new one. */
  putOutboundId(entry: QueueEntry, clientId: string, packetId: number): Promise<void> {
    const row = [this.vhost, entry.queue.name, entry.seq, clientId, packetId]
    return this.store.write(() => {
      this.sql.putOutboundId.run(...row)
    })
  }

  /**
   * Deferred, as the entry's deletion is (the model's removeEntry): queued after it, it commits in
   * the same transaction or a later one, never before it.
   */
  deleteOutboundId(entry: QueueEntry): Promise<void> {
    const key = [this.vhost, entry.queue.name, entry.seq]
    return this.store.writeDeferred(() => {
      this.sql.deleteOutboundId.run(...key)
    })
  }

  /** Rows found at start whose entries are gone (a crash between the entry's deletion and theirs). */
  deleteOutboundIds(rows: readonly StoredOutboundId[]): Promise<void> {
    return this.store.write(() => {
      for (const r of rows) this.sql.deleteOutboundId.run(this.vhost, r.queue, r.seq)
    })
  }
}

function prepare(db: Database.Database) {
  return {
    loadSessions: db.prepare('SELECT client_id, expiry_seconds, expires_at_ms, shared FROM mqtt_sessions WHERE vhost = ?'),
    loadWills: db.prepare('SELECT client_id, topic, payload, qos, retain, delay_seconds, properties FROM mqtt_session_wills WHERE vhost = ?'),
    loadQos2: db.prepare('SELECT client_id, packet_id FROM mqtt_qos2_received WHERE vhost = ?'),
    putSession: db.prepare(`INSERT INTO mqtt_sessions (vhost, client_id, expiry_seconds, expires_at_ms, shared) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (vhost, client_id) DO UPDATE SET expiry_seconds = excluded.expiry_seconds, expires_at_ms = excluded.expires_at_ms, shared = excluded.shared`),
    deleteSession: db.prepare('DELETE FROM mqtt_sessions WHERE vhost = ? AND client_id = ?'),
    putWill:
      db.prepare(`INSERT INTO mqtt_session_wills (vhost, client_id, topic, payload, qos, retain, delay_seconds, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (vhost, client_id) DO UPDATE SET topic = excluded.topic, payload = excluded.payload, qos = excluded.qos, retain = excluded.retain,
        delay_seconds = excluded.delay_seconds, properties = excluded.properties`),
    deleteWill: db.prepare('DELETE FROM mqtt_session_wills WHERE vhost = ? AND client_id = ?'),
    putQos2: db.prepare('INSERT OR IGNORE INTO mqtt_qos2_received (vhost, client_id, packet_id) VALUES (?, ?, ?)'),
    deleteQos2: db.prepare('DELETE FROM mqtt_qos2_received WHERE vhost = ? AND client_id = ? AND packet_id = ?'),
    deleteQos2All: db.prepare('DELETE FROM mqtt_qos2_received WHERE vhost = ? AND client_id = ?'),
    loadPubrels: db.prepare('SELECT client_id, packet_id FROM mqtt_pubrel_pending WHERE vhost = ? ORDER BY rowid'),
    // REPLACE: an id stored again (its old row's deletion failed) takes this PUBREC's place in the order.
    putPubrel: db.prepare('INSERT OR REPLACE INTO mqtt_pubrel_pending (vhost, client_id, packet_id) VALUES (?, ?, ?)'),
    deletePubrel: db.prepare('DELETE FROM mqtt_pubrel_pending WHERE vhost = ? AND client_id = ? AND packet_id = ?'),
    deletePubrelAll: db.prepare('DELETE FROM mqtt_pubrel_pending WHERE vhost = ? AND client_id = ?'),
    loadOutboundIds: db.prepare('SELECT queue, seq, client_id, packet_id FROM mqtt_outbound_ids WHERE vhost = ?'),
    putOutboundId: db.prepare('INSERT OR REPLACE INTO mqtt_outbound_ids (vhost, queue, seq, client_id, packet_id) VALUES (?, ?, ?, ?, ?)'),
    deleteOutboundId: db.prepare('DELETE FROM mqtt_outbound_ids WHERE vhost = ? AND queue = ? AND seq = ?'),
    // The table holds only deliveries in flight: a scan is cheap.
    deleteOutboundIdsOf: db.prepare('DELETE FROM mqtt_outbound_ids WHERE vhost = ? AND client_id = ?')
  }
}

function encodeProperties(p: PublishProperties): string {
  return JSON.stringify({ ...p, correlationData: p.correlationData?.toString('base64') })
}

function decodeProperties(json: string): PublishProperties {
  const o = JSON.parse(json) as PublishProperties & { correlationData?: string }
  const { correlationData, ...rest } = o
  return correlationData === undefined ? rest : { ...rest, correlationData: Buffer.from(correlationData, 'base64') }
}
