import type Database from 'better-sqlite3'
import type { SqliteStore } from '../../../core/storage/sqlite-store.ts'
import { encodeOptionalFields, publishFromPacket, publishFromRow, type InPacket, type PublishPacket, type PublishRow } from './packet-codec.ts'

// Inbound QoS 2 publishes held from PUBLISH to PUBREL (table mqtt_incoming), which is how a
// retransmitted PUBLISH is recognised [MQTT-4.3.3-2]. aedes looks one up on every QoS 2 PUBLISH;
// changes not committed yet are answered from a small map of pending writes, so that lookup
// never waits for a commit and still sees every change asked for before it.

interface Pending { packet: PublishPacket | null } // null: deleted

const noSuchPacket = (): Error => new Error('no such packet')

export class IncomingStore {
  private readonly pending = new Map<string, Map<number, Pending>>()
  private readonly cleaning = new Map<string, object>()
  private readonly upsert: Database.Statement
  private readonly remove: Database.Statement
  private readonly removeClient: Database.Statement
  private readonly select: Database.Statement

  constructor (private readonly store: SqliteStore, private readonly nowMs: () => number) {
    const db = store.db
    this.upsert = db.prepare(`INSERT OR REPLACE INTO mqtt_incoming
      (client_id, mqtt_packet_id, topic, payload, qos, retain, properties, origin_id, origin_seq, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    this.remove = db.prepare('DELETE FROM mqtt_incoming WHERE client_id = ? AND mqtt_packet_id = ?')
    this.removeClient = db.prepare('DELETE FROM mqtt_incoming WHERE client_id = ?')
    this.select = db.prepare(`SELECT topic, payload, qos, retain, properties, origin_id, origin_seq
      FROM mqtt_incoming WHERE client_id = ? AND mqtt_packet_id = ?`)
  }

  async put (clientId: string, packet: InPacket): Promise<void> {
    const messageId = packet.messageId as number
    const copy = publishFromPacket(packet)
    const row = [clientId, messageId, copy.topic, copy.payload, copy.qos, copy.retain ? 1 : 0,
      encodeOptionalFields(packet), copy.brokerId ?? null, copy.brokerCounter, this.nowMs()]
    await this.pendingWrite(clientId, messageId, { packet: copy }, () => { this.upsert.run(...row) })
  }

  async get (clientId: string, messageId: number): Promise<PublishPacket> {
    const packet = this.lookup(clientId, messageId)
    if (packet === undefined) throw noSuchPacket()
    return packet
  }

  async delete (clientId: string, messageId: number): Promise<void> {
    // The contract: deleting an unknown packet is an error. Checked and marked in the same turn.
    if (this.lookup(clientId, messageId) === undefined) throw noSuchPacket()
    await this.pendingWrite(clientId, messageId, { packet: null }, () => { this.remove.run(clientId, messageId) })
  }

  /** Session discarded [MQTT-3.1.2-6]: drop every stored packet of exactly this client. */
  async clean (clientId: string): Promise<void> {
    const token = {}
    this.cleaning.set(clientId, token)
    this.pending.delete(clientId)
    try {
      await this.store.write(() => { this.removeClient.run(clientId) })
    } finally {
      if (this.cleaning.get(clientId) === token) this.cleaning.delete(clientId)
    }
  }

  private lookup (clientId: string, messageId: number): PublishPacket | undefined {
    const pending = this.pending.get(clientId)?.get(messageId)
    if (pending !== undefined) return pending.packet ?? undefined
    if (this.cleaning.has(clientId)) return undefined
    const row = this.select.get(clientId, messageId) as PublishRow | undefined
    return row === undefined ? undefined : publishFromRow(row, messageId)
  }

  private async pendingWrite (clientId: string, messageId: number, mark: Pending, fn: () => void): Promise<void> {
    let byId = this.pending.get(clientId)
    if (byId === undefined) { byId = new Map(); this.pending.set(clientId, byId) }
    byId.set(messageId, mark)
    try {
      await this.store.write(fn)
    } finally {
      const current = this.pending.get(clientId)
      if (current?.get(messageId) === mark) {
        current.delete(messageId)
        if (current.size === 0) this.pending.delete(clientId)
      }
    }
  }
}
