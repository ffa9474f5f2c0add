import type Database from 'better-sqlite3'

// The statements behind SqliteStreamStore (migration 3), prepared once per store.

/** Bytes of a stored record as the manifest counts them: body, keys and properties. */
const RECORD_BYTES = 'length(body) + length(CAST(routing_key AS BLOB)) + length(CAST(exchange AS BLOB)) + length(properties)'

export type StreamStatements = ReturnType<typeof prepareStreamStatements>

export function prepareStreamStatements(db: Database.Database) {
  const segmentColumns = `s.stream_id, d.vhost, d.name, s.first_offset, s.last_offset, s.records, s.bytes, s.first_ts, s.last_ts,
    s.state, s.object_key, s.index_json`
  return {
    insertRecord: db.prepare(`INSERT INTO stream_records (stream_id, stream_offset, timestamp_ms, exchange, routing_key, properties, body)
      VALUES (?, ?, ?, ?, ?, ?, ?)`),
    readRecords: db.prepare(`SELECT stream_offset, timestamp_ms, exchange, routing_key, properties, body FROM stream_records
      WHERE stream_id = ? AND stream_offset >= ? AND stream_offset <= ? ORDER BY stream_offset LIMIT ?`),
    deleteRecords: db.prepare('DELETE FROM stream_records WHERE stream_id = ? AND stream_offset >= ? AND stream_offset <= ?'),
    deleteStreamRecords: db.prepare('DELETE FROM stream_records WHERE stream_id = ?'),
    countFrom: db.prepare(`SELECT count(*) AS records, coalesce(sum(${RECORD_BYTES}), 0) AS bytes, min(timestamp_ms) AS first_ts,
      max(timestamp_ms) AS last_ts, max(stream_offset) AS last_offset FROM stream_records WHERE stream_id = ? AND stream_offset >= ?`),
    insertOpen: db.prepare(`INSERT OR IGNORE INTO stream_segments
      (stream_id, first_offset, last_offset, records, bytes, first_ts, last_ts, state, object_key, index_json)
      VALUES (?, ?, ? - 1, 0, 0, 0, 0, 'open', NULL, NULL)`),
    upsertSegment: db.prepare(`INSERT OR REPLACE INTO stream_segments
      (stream_id, first_offset, last_offset, records, bytes, first_ts, last_ts, state, object_key, index_json)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    deleteSegment: db.prepare('DELETE FROM stream_segments WHERE stream_id = ? AND first_offset = ?'),
    deleteOffloaded: db.prepare(`DELETE FROM stream_segments WHERE stream_id = ? AND first_offset = ? AND state = 'offloaded' AND object_key = ?`),
    deleteStreamSegments: db.prepare('DELETE FROM stream_segments WHERE stream_id = ?'),
    loadSegments: db.prepare(`SELECT ${segmentColumns} FROM stream_segments s JOIN queue_definitions d ON d.queue_id = s.stream_id
      WHERE s.stream_id = ? ORDER BY s.first_offset`),
    sealedLocal: db.prepare(`SELECT ${segmentColumns} FROM stream_segments s JOIN queue_definitions d ON d.queue_id = s.stream_id
      WHERE s.state = 'sealed' ORDER BY s.last_ts, s.stream_id, s.first_offset`),
    offloaded: db.prepare(`SELECT ${segmentColumns} FROM stream_segments s JOIN queue_definitions d ON d.queue_id = s.stream_id
      WHERE s.stream_id = ? AND s.state = 'offloaded' ORDER BY s.first_offset`)
  }
}

export interface SegmentRow {
  stream_id: number
  vhost: string
  name: string
  first_offset: number
  last_offset: number
  records: number
  bytes: number
  first_ts: number
  last_ts: number
  state: 'open' | 'sealed' | 'offloaded'
  object_key: string | null
  index_json: string | null
}

export interface RecordRow {
  stream_offset: number
  timestamp_ms: number
  exchange: string
  routing_key: string
  properties: Buffer
  body: Buffer
}

export interface CountRow {
  records: number
  bytes: number
  first_ts: number | null
  last_ts: number | null
  last_offset: number | null
}
