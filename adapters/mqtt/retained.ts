// Retained messages of one vhost: table `retained` keyed by vhost and topic, which topics hold one kept in memory (a
// trie), so a SUBSCRIBE reads only the rows it matches. A core sink on the MQTT exchange takes
// every retained publish, from MQTT or from AMQP (header x-mqtt-retain), so there is one path.
import type Database from 'better-sqlite3'
import type { SqliteStore } from '../../core/storage/sqlite-store.ts'
import type { PropertiesCodec } from '../../core/model/sqlite/sqlite-durable-store.ts'
import { Message, type MessageProperties } from '../../core/model/message.ts'
import type { MessageSink } from '../../core/model/message-sink.ts'
import type { Binding } from '../../core/model/binding.ts'
import { RetainedTopics } from './retained-topics.ts'
import { compileFilter, filterMatches, routingKeyToTopic, topicToRoutingKey } from './topic-grammar.ts'
import { isRetained, mqttQosOf, QOS_HEADER, RETAIN_HEADER } from './properties.ts'

interface RetainedRow {
  topic: string
  payload: Buffer | string
  qos: number
  fields: string
}
/** fields JSON: p = the message properties in the store's encoding (base64), t = published at. */
interface Fields {
  p?: string
  t?: number
}

export class RetainedMessages implements MessageSink {
  readonly kind = 'sink' as const
  readonly name = 'mqtt-retained'
  readonly durable = false as const
  readonly exclusiveOwner = null
  readonly inbound = new Set<Binding>()
  private readonly topics = new RetainedTopics()
  private readonly sql: ReturnType<typeof prepare>
  /** In memory only: the broker's own $SYS topics, retained as Mosquitto does. */
  private readonly volatile = new Map<string, Message>()

  constructor(
    private readonly store: SqliteStore,
    private readonly codec: PropertiesCodec,
    private readonly exchange: string,
    private readonly vhost: string
  ) {
    this.sql = prepare(store.db)
    for (const topic of this.sql.allTopics.iterate(vhost) as IterableIterator<string>) this.topics.add(topic)
  }

  get size(): number {
    return this.topics.size + this.volatile.size
  }

  /** $SYS topics are the broker's own and retained in memory only (setVolatile). */
  wantsUnrouted(message: Message): boolean {
    return isRetained(message) && message.routingKey.charCodeAt(0) !== 0x24
  }

  /** A retained publish: stored (an empty payload clears the topic [MQTT-3.3.1-10]); the ack waits for it. */
  accept(message: Message): Promise<void> | undefined {
    if (!this.wantsUnrouted(message)) return undefined
    const topic = routingKeyToTopic(message.routingKey)
    if (message.body.length === 0) {
      this.topics.delete(topic)
      return this.store.write(() => {
        this.sql.remove.run(this.vhost, topic)
      })
    }
    this.topics.add(topic)
    const fields: Fields = { p: this.codec.encode(message.properties).toString('base64'), t: message.publishedAtMs }
    const row = [this.vhost, topic, message.body, mqttQosOf(message), JSON.stringify(fields), message.publishedAtMs]
    return this.store.write(() => {
      this.sql.upsert.run(...row)
    })
  }

  /** $SYS values: retained in memory, never stored. */
  setVolatile(message: Message): void {
    this.volatile.set(routingKeyToTopic(message.routingKey), message)
  }

  /** Retained messages matching a filter, as core messages (expired ones left out), after pending writes. */
  async matching(filter: string, nowMs: number): Promise<Message[]> {
    await this.store.write(() => {}) // barrier: retained messages stored before this call are in
    const compiled = compileFilter(filter)
    const out: Message[] = []
    for (const topic of this.topics.match(filter)) {
      if (!filterMatches(compiled, topic)) continue
      const row = this.sql.byTopic.get(this.vhost, topic) as RetainedRow | undefined
      if (row === undefined) continue
      const message = this.fromRow(row)
      if (!expired(message, nowMs)) out.push(message)
    }
    for (const [topic, message] of this.volatile) if (filterMatches(compiled, topic)) out.push(message)
    return out
  }

  private fromRow(row: RetainedRow): Message {
    const fields = JSON.parse(row.fields) as Fields
    const body = typeof row.payload === 'string' ? Buffer.from(row.payload) : row.payload
    // Rows of the first (aedes) version carry no encoded properties: a plain MQTT publish then.
    const properties: MessageProperties =
      fields.p !== undefined
        ? this.codec.decode(Buffer.from(fields.p, 'base64'))
        : { deliveryMode: row.qos > 0 ? 2 : 1, headers: { [QOS_HEADER]: row.qos, [RETAIN_HEADER]: true } }
    return new Message(this.exchange, topicToRoutingKey(row.topic), properties, body, fields.t ?? Date.now(), null)
  }
}

/**
 * The rows kept before retained messages had a vhost (migration 7 marks them '') belong to mqtt.vhost:
 * given to it once, before any vhost's messages are read.
 */
export async function claimRetainedWithoutVhost(store: SqliteStore, mqttVhost: string): Promise<void> {
  await store.write(() => {
    store.db.prepare("UPDATE retained SET vhost = ? WHERE vhost = ''").run(mqttVhost)
  })
}

function expired(message: Message, nowMs: number): boolean {
  const e = message.properties.expiration
  return e !== undefined && /^\d+$/.test(e) && message.publishedAtMs + Number(e) <= nowMs
}

function prepare(db: Database.Database) {
  return {
    upsert: db.prepare(`INSERT INTO retained (vhost, topic, payload, qos, fields, created_ms) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (vhost, topic) DO UPDATE SET payload = excluded.payload, qos = excluded.qos, fields = excluded.fields, created_ms = excluded.created_ms`),
    remove: db.prepare('DELETE FROM retained WHERE vhost = ? AND topic = ?'),
    byTopic: db.prepare('SELECT topic, payload, qos, fields FROM retained WHERE vhost = ? AND topic = ?'),
    allTopics: db.prepare('SELECT topic FROM retained WHERE vhost = ?').pluck()
  }
}
