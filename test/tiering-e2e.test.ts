// Tiering end to end through a running broker (issue 5): MQTT devices publish QoS 1 to sensors/...,
// the config's archive entry (sensors/# -> stream sensors-archive) keeps every reading in a stream
// without any AMQP client, sealed segments go to a real S3-compatible server (s3rver over HTTP) by
// size and by age, the bucket holds edge/%2F/sensors-archive/<first>-<last>.seg, the local rows are
// gone, and an amqplib consumer from 'first' reads every reading in order across both tiers through
// the bounded block cache. An object store outage in the middle loses nothing, shows as a backlog
// and an error in /api/tiering and /metrics, and the upload resumes when the store returns.
// Every wait is a bounded poll of /api/tiering; no assertion depends on how long anything took.
import { afterEach, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import type { WharfConfig } from '../edge-config/config-types.ts'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect as mqttConnect, end } from './support/mqtt-helpers.ts'
import { startS3Server, type S3Server } from './support/s3-server.ts'
import {
  ARCHIVE_FILTER,
  ARCHIVE_STREAM,
  KEY_PREFIX,
  assertContiguousFromZero,
  assertReadingsInOrder,
  listBucket,
  metricValue,
  metricsText,
  parseSegmentKeys,
  pollUntil,
  publishReadings,
  readFromFirst,
  readStreamTables,
  tieringStatus,
  useS3Credentials,
  type TieringApi
} from './support/tiering-e2e.ts'

const SEGMENT_BYTES = 8192
const BLOCK_BYTES = 2048
const CACHE_BYTES_MAX = 65_536
const LOCAL_BYTES_MAX = 16_384
const KEY_PATTERN = new RegExp(`^${KEY_PREFIX}/%2F/${ARCHIVE_STREAM}/[0-9a-f]{16}-[0-9a-f]{16}\\.seg$`)

/** Tiering to s3://<bucket>/edge on the s3rver, small segments and blocks, checks every 50 ms. */
function tieringTo(server: S3Server, tune: (config: WharfConfig) => void = () => {}) {
  return (config: WharfConfig): void => {
    config.log.level = 'info'
    config.streams.segmentBytes = SEGMENT_BYTES
    config.streams.blockBytes = BLOCK_BYTES
    config.tiering.url = `s3://${server.bucket}/${KEY_PREFIX}`
    config.tiering.s3 = { endpoint: server.endpoint, region: server.region, forcePathStyle: true }
    config.tiering.checkIntervalMs = 50
    config.tiering.localBytesMax = LOCAL_BYTES_MAX
    config.tiering.localAgeSeconds = 86_400
    config.tiering.cacheBytesMax = CACHE_BYTES_MAX
    config.tiering.prefetchWatermark = 0.5
    config.tiering.uploadRetryInitialMs = 50
    config.tiering.uploadRetryMaxMs = 400
    config.archive = [{ filter: ARCHIVE_FILTER, stream: ARCHIVE_STREAM }]
    tune(config)
  }
}

/** Uploads caught up: nothing due for offload, and the local stream within tiering.localBytesMax. */
const caughtUp =
  (localBytesMax: number) =>
  (s: TieringApi): boolean =>
    s.backlog_segments === 0 && s.uploaded_segments > 0 && s.local_stream_bytes <= localBytesMax

describe('tiering through a running broker (MQTT archive -> stream -> S3)', { timeout: 120_000 }, () => {
  let server: S3Server
  let broker: TestBroker | undefined
  let device: MqttClient | undefined
  let restoreEnv: () => void = () => {}

  beforeEach(async () => {
    server = await startS3Server()
    restoreEnv = useS3Credentials(server)
  })
  afterEach(async () => {
    await end(device)
    device = undefined
    await broker?.close()
    broker = undefined
    restoreEnv()
    await server.close()
  })

  test('offload by size: segments beyond tiering.localBytesMax are in the bucket, their local rows gone; a consumer from first reads all in order through a bounded cache that prefetches', async t => {
    const N = 1000
    broker = await startTestBroker(tieringTo(server))
    device = await mqttConnect(broker.mqttUrl, { clientId: 'dev-size' })
    await device.publishAsync('plant/line1/temp', 'not archived', { qos: 1 }) // outside sensors/#
    await publishReadings(device, 0, N)

    const settled = await pollUntil('offload by size to catch up', () => tieringStatus(broker!.adminUrl), caughtUp(LOCAL_BYTES_MAX))
    assert.equal(settled.object_store, `s3://${server.bucket}/${KEY_PREFIX}`)
    assert.equal(settled.last_error, null)
    assert.equal(settled.disk.blocked, null)

    const keys = await listBucket(server)
    for (const key of keys) assert.match(key, KEY_PATTERN)
    const segments = parseSegmentKeys(keys)
    assert.ok(segments.length >= 10, `expected many segments offloaded by size, got ${segments.length}`)
    assertContiguousFromZero(segments)
    // Guaranteed: with nothing in the backlog, every object in the bucket was counted once. An upload
    // is in the backlog until its manifest row commits and it is counted (the two change in one
    // step), and a put retried after a failure writes the same key again, so it is one object.
    assert.equal(settled.uploaded_segments, segments.length, 'each upload is one object')
    for (const s of segments) assert.deepEqual([s.vhost, s.stream], ['/', ARCHIVE_STREAM])

    const tables = readStreamTables(join(broker.dataDir, 'wharf.db'), ARCHIVE_STREAM)
    assert.deepEqual(
      tables.offloaded.map(s => `${KEY_PREFIX}/${s.objectKey}`),
      keys,
      'the manifest names exactly the objects in the bucket'
    )
    const lastOffloaded = segments.at(-1)?.lastOffset ?? -1
    assert.equal(tables.localRowsOfOffloaded, 0, 'no local row of an offloaded segment is left')
    assert.equal(tables.minLocalOffset, lastOffloaded + 1, 'the local tier starts right after the last offloaded offset')
    assert.equal(tables.maxLocalOffset, N - 1)
    assert.equal(tables.localRecords + tables.offloaded.reduce((n, s) => n + s.records, 0), N, 'both tiers together hold every reading once')

    const before = await tieringStatus(broker.adminUrl)
    const got = await readFromFirst(broker.amqpUrl, ARCHIVE_STREAM, N)
    assertReadingsInOrder(got, N)

    const after = await tieringStatus(broker.adminUrl)
    const blocks = tables.offloaded.reduce((n, s) => n + s.index.blocks.length, 0)
    const gets = after.requests.gets - before.requests.gets
    assert.ok(after.cache.max_bytes_seen <= CACHE_BYTES_MAX, `cache held ${after.cache.max_bytes_seen} bytes, bound ${CACHE_BYTES_MAX}`)
    assert.ok(after.cache.max_bytes_seen > 0)
    assert.ok(after.cache.evictions > 0, 'the offloaded readings exceed the cache, so its bound was exercised')
    assert.ok(after.cache.prefetches > 0, 'a sequential reader gets blocks fetched ahead')
    // One ranged GET per block read; a prefetched block evicted before use would cost one more.
    assert.ok(gets >= blocks && gets <= blocks + Math.ceil(blocks / 10), `${gets} GETs for ${blocks} blocks`)
    t.diagnostic(
      `${segments.length} segments, ${tables.localRecords} records local; read back: ${gets} GETs for ${blocks} blocks, ${after.cache.prefetches} prefetches, ${after.cache.evictions} evictions, cache max ${after.cache.max_bytes_seen} of ${CACHE_BYTES_MAX} bytes`
    )
  })

  test('offload by age: with tiering.localBytesMax far away, segments older than tiering.localAgeSeconds go to the bucket, batch after batch', async () => {
    broker = await startTestBroker(
      tieringTo(server, config => {
        config.streams.segmentBytes = 16 * 1024 * 1024
        config.streams.segmentAgeSeconds = 1
        config.tiering.localAgeSeconds = 1
        config.tiering.localBytesMax = 1024 * 1024 * 1024
      })
    )
    device = await mqttConnect(broker.mqttUrl, { clientId: 'dev-age' })
    const dbFile = join(broker.dataDir, 'wharf.db')
    const allOffloaded =
      (n: number) =>
      (s: TieringApi): boolean =>
        s.backlog_segments === 0 &&
        s.local_stream_bytes === 0 &&
        s.uploaded_segments > 0 &&
        readStreamTables(dbFile, ARCHIVE_STREAM).offloaded.at(-1)?.lastOffset === n - 1

    await publishReadings(device, 0, 20)
    await pollUntil('the first batch to age out', () => tieringStatus(broker!.adminUrl), allOffloaded(20))
    const first = parseSegmentKeys(await listBucket(server))
    assertContiguousFromZero(first)
    assert.equal(first.at(-1)?.lastOffset, 19)
    assert.equal(readStreamTables(dbFile, ARCHIVE_STREAM).localRecords, 0, 'every aged record left the local tier')

    await publishReadings(device, 20, 40)
    const settled = await pollUntil('the second batch to age out', () => tieringStatus(broker!.adminUrl), allOffloaded(40))
    const keys = await listBucket(server)
    for (const key of keys) assert.match(key, KEY_PATTERN)
    const segments = parseSegmentKeys(keys)
    assertContiguousFromZero(segments)
    assert.equal(segments.at(-1)?.lastOffset, 39)
    assert.ok(segments.length > first.length, 'the second batch is a segment of its own')
    assert.equal(settled.uploaded_segments, segments.length)
    const tables = readStreamTables(dbFile, ARCHIVE_STREAM)
    assert.equal(tables.localRecords, 0)
    assert.deepEqual(
      tables.offloaded.map(s => `${KEY_PREFIX}/${s.objectKey}`),
      keys
    )

    assertReadingsInOrder(await readFromFirst(broker.amqpUrl, ARCHIVE_STREAM, 40), 40)
  })

  test('object store stopped mid-run: publishes still acknowledged, backlog and error reported, nothing lost; uploads resume when it returns', async t => {
    const N1 = 300
    const N2 = 600
    broker = await startTestBroker(tieringTo(server))
    device = await mqttConnect(broker.mqttUrl, { clientId: 'dev-outage' })
    await publishReadings(device, 0, N1)
    const beforeOutage = await pollUntil('offload before the outage', () => tieringStatus(broker!.adminUrl), caughtUp(LOCAL_BYTES_MAX))

    await server.stop()
    await publishReadings(device, N1, N2) // resolves only once every reading was PUBACKed
    const down = await pollUntil(
      'the outage to show in /api/tiering',
      () => tieringStatus(broker!.adminUrl),
      s => s.backlog_segments > 0 && s.upload_failures > 0 && s.last_error !== null
    )
    assert.match(down.last_error ?? '', /^tiering: (put|list) /, 'the error names the step')
    assert.equal(down.uploaded_segments, beforeOutage.uploaded_segments, 'nothing uploaded while the store is down')
    assert.equal(down.disk.blocked, null, 'a down object store refuses no publisher')
    const metrics = metricsText(broker.adminUrl)
    assert.ok((metricValue(await metrics, 'wharf_tiering_backlog_segments') ?? 0) > 0, 'the backlog is in /metrics')
    assert.ok((metricValue(await metrics, 'wharf_tiering_upload_failures_total') ?? 0) > 0)
    const local = readStreamTables(join(broker.dataDir, 'wharf.db'), ARCHIVE_STREAM)
    assert.equal(local.maxLocalOffset, N2 - 1, 'the readings of the outage stay local')
    assert.equal(local.localRecords + local.offloaded.reduce((n, s) => n + s.records, 0), N2)

    await server.restart()
    const resumed = await pollUntil('uploads to resume and catch up', () => tieringStatus(broker!.adminUrl), caughtUp(LOCAL_BYTES_MAX), 30_000)
    assert.ok(resumed.uploaded_segments > beforeOutage.uploaded_segments)
    const segments = parseSegmentKeys(await listBucket(server))
    assertContiguousFromZero(segments)
    assert.equal(segments.length, resumed.uploaded_segments, 'no segment uploaded twice')
    const tables = readStreamTables(join(broker.dataDir, 'wharf.db'), ARCHIVE_STREAM)
    assert.equal(tables.localRowsOfOffloaded, 0)
    assert.equal(tables.minLocalOffset, (segments.at(-1)?.lastOffset ?? -1) + 1)

    assertReadingsInOrder(await readFromFirst(broker.amqpUrl, ARCHIVE_STREAM, N2), N2)
    t.diagnostic(`outage: backlog ${down.backlog_segments} segments, ${down.upload_failures} failed uploads, last error: ${down.last_error ?? ''}`)
  })
})
