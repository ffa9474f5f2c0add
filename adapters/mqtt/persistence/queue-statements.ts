import type Database from 'better-sqlite3'

// The statements behind SessionQueues, prepared once per store.

export const QUEUE_PREFIX = 'mqtt-session/'
export const KIND_PUBREL = 1

export type QueueStatements = ReturnType<typeof prepareQueueStatements>

export function prepareQueueStatements (db: Database.Database) {
  const takeColumns = 'topic, payload, payload_bytes, properties, origin_id, origin_seq'
  const entryColumns = 'seq, message_id, qos, retain, mqtt_packet_id'
  // INDEXED BY: without table statistics the planner prefers walking the primary key in seq order
  // (no sort), which reads the whole queue to find one entry.
  const unassignedByOrigin = `SELECT e.seq FROM queue_entries e INDEXED BY queue_entries_by_origin JOIN messages m ON m.id = e.message_id
    WHERE e.queue_id = ? AND e.origin_seq = ? AND m.origin_id IS ?`
  const byPacketId = 'FROM queue_entries INDEXED BY queue_entries_by_packet_id WHERE queue_id = ? AND mqtt_packet_id = ? ORDER BY seq LIMIT 1'
  return {
    loadQueues: db.prepare(`
      SELECT q.id, q.name, count(e.seq) AS count, coalesce(sum(m.payload_bytes), 0) AS bytes, coalesce(max(e.seq), 0) AS last_seq
      FROM queues q LEFT JOIN queue_entries e ON e.queue_id = q.id LEFT JOIN messages m ON m.id = e.message_id
      WHERE substr(q.name, 1, ${QUEUE_PREFIX.length}) = '${QUEUE_PREFIX}' GROUP BY q.id`),
    maxOriginSeq: db.prepare('SELECT max(origin_seq) FROM messages WHERE origin_id = ?').pluck(),
    insertQueue: db.prepare(`INSERT INTO queues (name, created_ms) VALUES (?, ?)
      ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`).pluck(),
    insertMessage: db.prepare(`INSERT INTO messages
      (topic, payload, payload_bytes, qos, retain, properties, origin_id, origin_seq, refs, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    // One row for both protocols: a message core already stored (for AMQP queues) is referenced by
    // the sessions too. Its topic column holds the routing key; the MQTT topic goes into properties,
    // which publishFromRow applies over the column. Guarded by size and time, so a row id reused
    // after a rolled-back batch is never taken for another message.
    shareMessage: db.prepare(`UPDATE messages SET refs = refs + ?, properties = ?, origin_id = ?, origin_seq = ?
      WHERE id = ? AND exchange IS NOT NULL AND origin_id IS NULL AND payload_bytes = ? AND created_ms = ?`),
    insertEntry: db.prepare(`INSERT INTO queue_entries (queue_id, seq, message_id, origin_seq, qos, retain, kind, mqtt_packet_id)
      VALUES (?, ?, ?, ?, ?, ?, 0, NULL)`),
    assignFree: db.prepare(`UPDATE queue_entries SET mqtt_packet_id = ? WHERE queue_id = ? AND seq =
      (${unassignedByOrigin} AND (e.mqtt_packet_id IS NULL OR e.mqtt_packet_id = ?) ORDER BY e.seq LIMIT 1)`),
    assignAny: db.prepare(`UPDATE queue_entries SET mqtt_packet_id = ? WHERE queue_id = ? AND seq =
      (${unassignedByOrigin} ORDER BY e.seq LIMIT 1)`),
    findByPacketId: db.prepare(`SELECT seq, message_id ${byPacketId}`),
    makePubrel: db.prepare(`UPDATE queue_entries SET kind = ${KIND_PUBREL}, message_id = NULL WHERE queue_id = ? AND seq = ?`),
    deleteByPacketId: db.prepare(`DELETE FROM queue_entries WHERE queue_id = ? AND seq =
      (SELECT seq ${byPacketId}) RETURNING ${entryColumns}`),
    deleteUnassigned: db.prepare(`DELETE FROM queue_entries WHERE queue_id = ? AND seq =
      (${unassignedByOrigin} AND e.mqtt_packet_id IS NULL ORDER BY e.seq LIMIT 1) RETURNING ${entryColumns}`),
    deleteOldestUndelivered: db.prepare(`DELETE FROM queue_entries WHERE queue_id = ? AND seq =
      (SELECT seq FROM queue_entries WHERE queue_id = ? AND kind = 0 AND mqtt_packet_id IS NULL ORDER BY seq LIMIT 1) RETURNING message_id`),
    releaseLast: db.prepare('DELETE FROM messages WHERE id = ? AND refs = 1 RETURNING payload_bytes').pluck(),
    releaseOne: db.prepare('UPDATE messages SET refs = refs - 1 WHERE id = ? RETURNING payload_bytes').pluck(),
    takeLast: db.prepare(`DELETE FROM messages WHERE id = ? AND refs = 1 RETURNING ${takeColumns}`),
    takeOne: db.prepare(`UPDATE messages SET refs = refs - 1 WHERE id = ? RETURNING ${takeColumns}`),
    page: db.prepare(`
      SELECT e.seq, e.kind, e.mqtt_packet_id, e.qos, e.retain, m.topic, m.payload, m.properties, m.origin_id, m.origin_seq
      FROM queue_entries e LEFT JOIN messages m ON m.id = e.message_id
      WHERE e.queue_id = ? AND e.seq > ? AND e.seq <= ? ORDER BY e.seq LIMIT ?`)
  }
}
