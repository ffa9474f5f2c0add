import type Database from 'better-sqlite3'

// The statements behind SqliteDurableStore, prepared once per store.

/** queues.name of a model queue; the vhost is URI-encoded so the key cannot be ambiguous. */
export const modelQueueKey = (vhost: string, name: string): string => `vhost/${encodeURIComponent(vhost)}/${name}`

export type ModelStatements = ReturnType<typeof prepareModelStatements>

export function prepareModelStatements(db: Database.Database, rowsPerInsert: number) {
  const insertMessages = `INSERT INTO messages
    (id, topic, payload, payload_bytes, qos, retain, properties, origin_id, origin_seq, refs, created_ms, exchange, amqp_properties, extra_routing_keys) VALUES`
  const messageRow = '(?, ?, ?, ?, 1, 0, NULL, NULL, 0, ?, ?, ?, ?, ?)'
  const insertEntries = 'INSERT INTO queue_entries (queue_id, seq, message_id, origin_seq, qos, retain, kind, mqtt_packet_id, transient) VALUES'
  const entryRow = '(?, ?, ?, 0, 1, 0, 0, NULL, ?)'
  const transientEntries = 'SELECT message_id FROM queue_entries WHERE transient = 1'
  const entriesOf = 'SELECT message_id FROM queue_entries WHERE queue_id = ?'
  const entriesInRange = 'SELECT message_id FROM queue_entries WHERE queue_id = ? AND seq BETWEEN ? AND ?'
  // The properties as hex text ('' for none): better-sqlite3 makes a Buffer of each blob, which costs
  // about 0.55 µs a row more than a string (100,000 rows of a paged queue read back).
  const entryColumns = `SELECT e.seq, e.message_id, m.topic, m.payload, m.exchange, hex(m.amqp_properties), m.created_ms, m.refs, e.deliveries, m.extra_routing_keys
      FROM queue_entries e JOIN messages m ON m.id = e.message_id`
  return {
    upsertExchange: db.prepare(`INSERT OR REPLACE INTO exchanges (vhost, name, type, auto_delete, internal, arguments) VALUES (?, ?, ?, ?, ?, ?)`),
    deleteExchange: db.prepare('DELETE FROM exchanges WHERE vhost = ? AND name = ?'),
    deleteExchangeBindings: db.prepare(`DELETE FROM bindings WHERE vhost = ? AND (source = ? OR (destination_kind = 'exchange' AND destination = ?))`),
    insertQueue: db
      .prepare(`INSERT INTO queues (name, created_ms) VALUES (?, ?)
      ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`)
      .pluck(),
    upsertDefinition: db.prepare('INSERT OR REPLACE INTO queue_definitions (queue_id, vhost, name, auto_delete, arguments) VALUES (?, ?, ?, ?, ?)'),
    releaseQueueMessages: db.prepare(`UPDATE messages SET refs = refs - 1 WHERE id IN (${entriesOf})`),
    deleteQueueMessages: db.prepare(`DELETE FROM messages WHERE refs <= 0 AND id IN (${entriesOf})`),
    deleteQueueEntries: db.prepare('DELETE FROM queue_entries WHERE queue_id = ?'),
    deleteDefinition: db.prepare('DELETE FROM queue_definitions WHERE queue_id = ?'),
    deleteQueue: db.prepare('DELETE FROM queues WHERE id = ?'),
    deleteQueueBindings: db.prepare(`DELETE FROM bindings WHERE vhost = ? AND destination_kind = 'queue' AND destination = ?`),
    insertBinding: db.prepare(
      `INSERT OR IGNORE INTO bindings (vhost, source, destination_kind, destination, routing_key, arguments) VALUES (?, ?, ?, ?, ?, ?)`
    ),
    deleteBinding: db.prepare(
      `DELETE FROM bindings WHERE vhost = ? AND source = ? AND destination_kind = ? AND destination = ? AND routing_key = ? AND arguments = ?`
    ),
    // Messages and entries go in by rows of a batch (the row ids are the store's): one statement for
    // rowsPerInsert rows at a time, the single-row one for the rest.
    insertMessage: db.prepare(`${insertMessages} ${messageRow}`),
    insertMessages: db.prepare(`${insertMessages} ${Array(rowsPerInsert).fill(messageRow).join(', ')}`),
    insertEntry: db.prepare(`${insertEntries} ${entryRow}`),
    insertEntries: db.prepare(`${insertEntries} ${Array(rowsPerInsert).fill(entryRow).join(', ')}`),
    deleteEntry: db.prepare('DELETE FROM queue_entries WHERE queue_id = ? AND seq = ? RETURNING message_id').pluck(),
    releaseLast: db.prepare('DELETE FROM messages WHERE id = ? AND refs = 1'),
    releaseOne: db.prepare('UPDATE messages SET refs = refs - 1 WHERE id = ?'),
    // A run of entries acked together, by seq range (queue id, first seq, last seq): rangeOf tells whether
    // the range holds those entries and no others, each with its own message.
    rangeOf: db.prepare(`SELECT count(*) AS entries, sum(seq) AS seqSum, count(DISTINCT message_id) AS messages
      FROM queue_entries WHERE queue_id = ? AND seq BETWEEN ? AND ?`),
    // The same without the distinct count, for entries known to hold one message each.
    rangeCount: db.prepare('SELECT count(*) AS entries, sum(seq) AS seqSum FROM queue_entries WHERE queue_id = ? AND seq BETWEEN ? AND ?'),
    releaseLastInRange: db.prepare(`DELETE FROM messages WHERE refs = 1 AND id IN (${entriesInRange})`),
    releaseOneInRange: db.prepare(`UPDATE messages SET refs = refs - 1 WHERE id IN (${entriesInRange})`),
    deleteEntryRange: db.prepare('DELETE FROM queue_entries WHERE queue_id = ? AND seq BETWEEN ? AND ?'),
    setDeliveries: db.prepare('UPDATE queue_entries SET deliveries = ? WHERE queue_id = ? AND seq = ?'),
    markDelivered: db.prepare('UPDATE queues SET delivered_seq = max(delivered_seq, ?) WHERE id = ?'),
    setDelivered: db.prepare('UPDATE queues SET delivered_seq = ? WHERE id = ?'),
    loadExchanges: db.prepare('SELECT vhost, name, type, auto_delete, internal, arguments FROM exchanges'),
    loadQueues: db.prepare(`SELECT q.id, d.vhost, d.name, d.auto_delete, d.arguments, q.delivered_seq
      FROM queue_definitions d JOIN queues q ON q.id = d.queue_id ORDER BY q.id`),
    loadBindings: db.prepare('SELECT vhost, source, destination_kind, destination, routing_key, arguments FROM bindings'),
    // Entries with their messages come as raw rows (arrays, entryColumns' order): no keyed object per row.
    loadEntries: db.prepare(`${entryColumns} WHERE e.queue_id = ? ORDER BY e.seq`).raw(),
    loadEntriesUpTo: db.prepare(`${entryColumns} WHERE e.queue_id = ? ORDER BY e.seq LIMIT ?`).raw(),
    // A queue that pages: what the store holds beyond what it read, and the next rows of it.
    summarizeEntries: db.prepare(`SELECT count(*) AS count, coalesce(sum(m.payload_bytes), 0) AS bytes, min(e.seq) AS firstSeq, max(e.seq) AS lastSeq,
        coalesce(sum(e.seq <= ?), 0) AS possiblyDelivered
      FROM queue_entries e JOIN messages m ON m.id = e.message_id WHERE e.queue_id = ? AND e.seq > ?`),
    readEntries: db.prepare(`${entryColumns} WHERE e.queue_id = ? AND e.seq > ? AND e.seq <= ? ORDER BY e.seq LIMIT ?`).raw(),
    // At start, before any load: transient entries (migration 14) go, each taking one reference off
    // its message (a message may have other entries: a quorum queue stores transient ones for good).
    releaseTransient: db.prepare(`UPDATE messages SET refs = refs - t.n
      FROM (SELECT message_id AS id, count(*) AS n FROM queue_entries WHERE transient = 1 GROUP BY message_id) AS t WHERE messages.id = t.id`),
    deleteTransientMessages: db.prepare(`DELETE FROM messages WHERE refs <= 0 AND id IN (${transientEntries})`),
    deleteTransientEntries: db.prepare('DELETE FROM queue_entries WHERE transient = 1')
  }
}
