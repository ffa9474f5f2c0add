import { Readable } from 'node:stream'
import type Database from 'better-sqlite3'
import type { SqliteStore } from '../../../core/storage/sqlite-store.ts'
import { decodeFields, encodeFields, otherFields, toPayload, type InPacket } from './packet-codec.ts'

// Last-will messages, one per client (table mqtt_wills), so a will survives a broker crash.

const COLUMNS = ['topic', 'payload'] as const

interface WillRow { topic: string, payload: Buffer | string, fields: string }
export type WillPacket = Record<string, unknown>

export class WillStore {
  private readonly upsert: Database.Statement
  private readonly remove: Database.Statement
  private readonly byClient: Database.Statement
  private readonly all: Database.Statement

  constructor (private readonly store: SqliteStore, private readonly nowMs: () => number) {
    const db = store.db
    this.upsert = db.prepare(`INSERT INTO mqtt_wills (client_id, broker_id, topic, payload, fields, created_ms) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (client_id) DO UPDATE SET broker_id = excluded.broker_id, topic = excluded.topic, payload = excluded.payload,
        fields = excluded.fields, created_ms = excluded.created_ms`)
    this.remove = db.prepare('DELETE FROM mqtt_wills WHERE client_id = ?')
    this.byClient = db.prepare('SELECT topic, payload, fields FROM mqtt_wills WHERE client_id = ?')
    this.all = db.prepare('SELECT topic, payload, fields FROM mqtt_wills ORDER BY client_id')
  }

  /** The packet is expected to carry clientId and brokerId already (aedes' contract: putWill sets them). */
  put (clientId: string, packet: InPacket): Promise<void> {
    const row = [clientId, packet.brokerId ?? null, packet.topic, toPayload(packet.payload), encodeFields(otherFields(packet, COLUMNS)), this.nowMs()]
    return this.store.write(() => { this.upsert.run(...row) })
  }

  async get (clientId: string): Promise<WillPacket | undefined> {
    await this.store.write(() => {}) // barrier: a putWill asked for before this call is in
    const row = this.byClient.get(clientId) as WillRow | undefined
    return row === undefined ? undefined : fromRow(row)
  }

  /** Deletes and returns the will, read in the same transaction. */
  async delete (clientId: string): Promise<WillPacket | undefined> {
    let will: WillPacket | undefined
    await this.store.write(() => {
      const row = this.byClient.get(clientId) as WillRow | undefined
      will = row === undefined ? undefined : fromRow(row)
      this.remove.run(clientId)
    })
    return will
  }

  /** Wills of clients whose broker is not in `brokers` (alive brokers, by id). */
  stream (brokers: Record<string, unknown>): Readable {
    return Readable.from(this.orphans(brokers))
  }

  private async * orphans (brokers: Record<string, unknown>): AsyncGenerator<WillPacket> {
    await this.store.write(() => {})
    for (const row of this.all.all() as WillRow[]) {
      const will = fromRow(row)
      if (!brokers[will.brokerId as string]) yield will
    }
  }
}

function fromRow (row: WillRow): WillPacket {
  return { ...decodeFields(row.fields), topic: row.topic, payload: row.payload }
}
