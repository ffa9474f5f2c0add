// Helpers for the tiering tests through a running broker (issue 5): the S3 credentials the AWS SDK
// reads from the environment, /api/tiering, the bucket's segment keys, the SQLite file read-only,
// MQTT devices publishing numbered readings and an amqplib stream consumer from `first`.
import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import type { ConsumeMessage } from 'amqplib'
import type { MqttClient } from 'mqtt'
import { S3ObjectStore } from '../../core/tiering/s3-object-store.ts'
import { parseSegmentKey, type ParsedSegmentKey } from '../../core/tiering/segment-name.ts'
import type { SegmentIndex } from '../../core/tiering/segment-index.ts'
import { channel, closeQuietly, connect as amqpConnect, consume } from './amqp-helpers.ts'
import type { S3Server } from './s3-server.ts'
import { sleep } from './wait.ts'
import { adminFetch } from './admin-http.ts'

export const ARCHIVE_STREAM = 'sensors-archive'
export const ARCHIVE_FILTER = 'sensors/#'
/** The bucket prefix of tiering.url s3://<bucket>/edge. */
export const KEY_PREFIX = 'edge'

const CREDENTIAL_VARS = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'
] as const

/**
 * Sets the variables the broker's S3 client takes its credentials from (the config never holds
 * them); returns what puts the previous values back.
 */
export function useS3Credentials(server: Pick<S3Server, 'credentials'>): () => void {
  const saved = CREDENTIAL_VARS.map(name => [name, process.env[name]] as const)
  process.env['AWS_ACCESS_KEY_ID'] = server.credentials.accessKeyId
  process.env['AWS_SECRET_ACCESS_KEY'] = server.credentials.secretAccessKey
  delete process.env['AWS_SESSION_TOKEN']
  delete process.env['AWS_PROFILE']
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true'
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

/** The parts of GET /api/tiering these tests read (snake_case, as the admin API writes them). */
export interface TieringApi {
  object_store: string
  backlog_segments: number
  backlog_bytes: number
  uploaded_segments: number
  upload_failures: number
  last_error: string | null
  local_stream_bytes: number
  cache: { bytes: number; max_bytes_seen: number; prefetches: number; evictions: number; hits: number; misses: number; joins: number }
  requests: { gets: number; puts: number; failures: number }
  disk: { blocked: string | null }
}

export async function tieringStatus(adminUrl: string): Promise<TieringApi> {
  const res = await adminFetch(`${adminUrl}/api/tiering`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200, `GET /api/tiering: ${res.status}`)
  return (await res.json()) as TieringApi
}

export async function metricsText(adminUrl: string): Promise<string> {
  const res = await adminFetch(`${adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200)
  return await res.text()
}

/** The value of an unlabelled Prometheus sample, or undefined. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find(l => l.startsWith(name + ' '))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

/** Polls `probe` until `done` holds for its value; fails after timeoutMs with the last value seen. */
export async function pollUntil<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  for (;;) {
    last = await probe()
    if (done(last)) return last
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`)
    await sleep(20)
  }
}

/** Every object key under `prefix/` in the server's bucket, as a separate S3 client lists them. */
export async function listBucket(server: S3Server, prefix = KEY_PREFIX): Promise<string[]> {
  const store = new S3ObjectStore({
    bucket: server.bucket,
    prefix: '',
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: server.credentials,
    maxAttempts: 1,
    connectTimeoutMs: 2000,
    requestTimeoutMs: 10_000
  })
  try {
    return (await store.list(`${prefix}/`)).map(o => o.key)
  } finally {
    await store.close()
  }
}

/** Parsed segment keys, sorted by first offset; any key that is not a segment key fails the test. */
export function parseSegmentKeys(keys: readonly string[]): ParsedSegmentKey[] {
  return keys
    .map(key => {
      const parsed = parseSegmentKey(key)
      assert.ok(parsed !== null, `not a segment key: ${key}`)
      return parsed
    })
    .sort((a, b) => a.firstOffset - b.firstOffset)
}

/** Segments follow each other without overlap or gap, from offset 0. */
export function assertContiguousFromZero(segments: readonly ParsedSegmentKey[]): void {
  let next = 0
  for (const s of segments) {
    assert.equal(s.firstOffset, next, `segment ${s.firstOffset}-${s.lastOffset} after one ending at ${next - 1}: overlap or gap`)
    next = s.lastOffset + 1
  }
}

export interface OffloadedRow {
  firstOffset: number
  lastOffset: number
  records: number
  objectKey: string
  index: SegmentIndex
}

/** What the broker's SQLite file holds for a stream, read through a read-only connection. */
export interface StreamTables {
  /** stream_records rows: the local tier. */
  localRecords: number
  minLocalOffset: number | null
  maxLocalOffset: number | null
  /** stream_records rows at or below the last offloaded offset: must be none. */
  localRowsOfOffloaded: number
  offloaded: OffloadedRow[]
}

export function readStreamTables(dbFile: string, stream: string, vhost = '/'): StreamTables {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true })
  try {
    const def = db.prepare('SELECT queue_id FROM queue_definitions WHERE vhost = ? AND name = ?').get(vhost, stream) as { queue_id: number } | undefined
    assert.ok(def !== undefined, `no queue_definitions row for ${vhost}/${stream}`)
    const id = def.queue_id
    const local = db.prepare('SELECT count(*) AS n, min(stream_offset) AS lo, max(stream_offset) AS hi FROM stream_records WHERE stream_id = ?').get(id) as {
      n: number
      lo: number | null
      hi: number | null
    }
    const rows = db
      .prepare(`SELECT first_offset, last_offset, records, object_key, index_json FROM stream_segments
      WHERE stream_id = ? AND state = 'offloaded' ORDER BY first_offset`)
      .all(id) as Array<{ first_offset: number; last_offset: number; records: number; object_key: string; index_json: string }>
    const offloaded = rows.map(r => ({
      firstOffset: r.first_offset,
      lastOffset: r.last_offset,
      records: r.records,
      objectKey: r.object_key,
      index: JSON.parse(r.index_json) as SegmentIndex
    }))
    const lastOffloaded = offloaded.at(-1)?.lastOffset ?? -1
    const below = db.prepare('SELECT count(*) AS n FROM stream_records WHERE stream_id = ? AND stream_offset <= ?').get(id, lastOffloaded) as { n: number }
    return { localRecords: local.n, minLocalOffset: local.lo, maxLocalOffset: local.hi, localRowsOfOffloaded: below.n, offloaded }
  } finally {
    db.close()
  }
}

/** A device reading: numbered, padded to about 200 bytes, so segments and blocks fill quickly. */
export function reading(i: number): string {
  return `reading ${String(i).padStart(7, '0')} `.padEnd(200, 'x')
}

/** The topic of reading i: four devices, so the archive filter sees several topics. */
export function readingTopic(i: number): string {
  return `sensors/dev${i % 4}/temp`
}

/** The routing key the archived message of reading i carries ('/' and '.' swapped). */
export function readingRoutingKey(i: number): string {
  return `sensors.dev${i % 4}.temp`
}

/** QoS 1 publishes of readings from..to-1, at most `window` unacknowledged; resolves when all are PUBACKed. */
export async function publishReadings(client: MqttClient, from: number, to: number, window = 100): Promise<void> {
  for (let start = from; start < to; start += window) {
    const end = Math.min(to, start + window)
    const acks: Array<Promise<unknown>> = []
    for (let i = start; i < end; i++) acks.push(client.publishAsync(readingTopic(i), reading(i), { qos: 1 }))
    await Promise.all(acks)
  }
}

export interface StreamDelivery {
  offset: number
  routingKey: string
  body: string
}

/**
 * An amqplib consumer with a prefetch window on the stream from x-stream-offset 'first', acking
 * as it goes; returns the first `count` deliveries, after a channel round trip shows no more came.
 */
export async function readFromFirst(amqpUrl: string, stream: string, count: number, timeoutMs = 30_000, prefetch = 50): Promise<StreamDelivery[]> {
  const conn = await amqpConnect(amqpUrl)
  try {
    const ch = await channel(conn)
    await ch.prefetch(prefetch)
    const inbox = await consume(ch, stream, { arguments: { 'x-stream-offset': 'first' } }, m => ch.ack(m))
    await inbox.waitFor(count, timeoutMs)
    await ch.checkQueue(stream) // a round trip: anything already sent has arrived
    return inbox.messages.map((m: ConsumeMessage) => ({
      offset: Number(m.properties.headers?.['x-stream-offset']),
      routingKey: m.fields.routingKey,
      body: m.content.toString()
    }))
  } finally {
    await closeQuietly(conn)
  }
}

/** Deliveries are readings 0..n-1, in order, once each, with their offsets and routing keys. */
export function assertReadingsInOrder(got: readonly StreamDelivery[], n: number): void {
  assert.equal(got.length, n, `expected ${n} deliveries, got ${got.length}`)
  for (let i = 0; i < n; i++) {
    const d = got[i] as StreamDelivery
    if (d.offset !== i || d.body !== reading(i) || d.routingKey !== readingRoutingKey(i)) {
      assert.fail(
        `delivery ${i}: offset ${d.offset}, routing key ${d.routingKey}, body ${d.body.slice(0, 16)}...; expected offset ${i}, ${readingRoutingKey(i)}, ${reading(i).slice(0, 16)}...`
      )
    }
  }
}
