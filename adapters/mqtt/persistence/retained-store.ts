import { Readable } from 'node:stream'
import type Database from 'better-sqlite3'
import type { SqliteStore } from '../../../core/storage/sqlite-store.ts'
import { RetainedTopics } from './retained-topics.ts'
import { decodeFields, encodeFields, otherFields, payloadBytes, toPayload, type InPacket } from './packet-codec.ts'

// Retained messages: table `retained` keyed by topic; which topics hold one is kept in memory, so
// a SUBSCRIBE reads only the rows it matches.

const COLUMNS = ['topic', 'payload', 'qos'] as const

interface RetainedRow { topic: string, payload: Buffer | string, qos: number, fields: string }

export class RetainedStore {
  private readonly topics = new RetainedTopics()
  private readonly upsert: Database.Statement
  private readonly remove: Database.Statement
  private readonly byTopic: Database.Statement
  private readonly allTopics: Database.Statement

  constructor (private readonly store: SqliteStore, private readonly nowMs: () => number) {
    const db = store.db
    this.upsert = db.prepare(`INSERT INTO retained (topic, payload, qos, fields, created_ms) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (topic) DO UPDATE SET payload = excluded.payload, qos = excluded.qos, fields = excluded.fields, created_ms = excluded.created_ms`)
    this.remove = db.prepare('DELETE FROM retained WHERE topic = ?')
    this.byTopic = db.prepare('SELECT topic, payload, qos, fields FROM retained WHERE topic = ?')
    this.allTopics = db.prepare('SELECT topic FROM retained').pluck()
  }

  get size (): number { return this.topics.size }

  load (): void {
    for (const topic of this.allTopics.iterate() as IterableIterator<string>) this.topics.add(topic)
  }

  /** An empty payload deletes the topic's retained message [MQTT-3.3.1-10]. */
  put (packet: InPacket): Promise<void> {
    const topic = packet.topic
    const payload = toPayload(packet.payload)
    if (payloadBytes(payload) === 0) {
      this.topics.delete(topic)
      return this.store.write(() => { this.remove.run(topic) })
    }
    this.topics.add(topic)
    const row = [topic, payload, packet.qos ?? 0, encodeFields(otherFields(packet, COLUMNS)), this.nowMs()]
    return this.store.write(() => { this.upsert.run(...row) })
  }

  /** Retained messages matching each filter in turn (a topic matching two filters comes twice, as in aedes' memory store). */
  stream (filters: readonly string[]): Readable {
    return Readable.from(this.matching([...filters]))
  }

  private async * matching (filters: string[]): AsyncGenerator<Record<string, unknown>> {
    await this.store.write(() => {}) // barrier: retained messages stored before this call are in
    for (const filter of filters) {
      for (const topic of this.topics.match(filter)) {
        const row = this.byTopic.get(topic) as RetainedRow | undefined
        if (row !== undefined) yield { ...decodeFields(row.fields), topic: row.topic, payload: row.payload, qos: row.qos }
      }
    }
  }
}
