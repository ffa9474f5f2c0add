// SIGKILL during offload (issue 5): the broker is a child process tiering the MQTT archive stream to
// a real s3rver. It is killed while segments are being uploaded (after at least one upload, with
// more due), three times over on the same data directory, then restarted until the backlog is
// gone. Every PUBACKed reading is then read from 'first' exactly once and in order, the stream has
// no gap, and the bucket holds exactly the manifest's segments, no two with overlapping ranges
// (an upload cut between put and the manifest update is re-put under the same key).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { startBrokerProcess, type BrokerProcess } from './support/broker-process.ts'
import { connect as mqttConnect } from './support/mqtt-helpers.ts'
import { startS3Server, type S3Server } from './support/s3-server.ts'
import {
  ARCHIVE_FILTER,
  ARCHIVE_STREAM,
  KEY_PREFIX,
  assertContiguousFromZero,
  listBucket,
  parseSegmentKeys,
  pollUntil,
  readFromFirst,
  readStreamTables,
  reading,
  readingRoutingKey,
  readingTopic,
  tieringStatus,
  type TieringApi
} from './support/tiering-e2e.ts'

const ROUNDS = 3
const READINGS_PER_ROUND = 2000
const LOCAL_BYTES_MAX = 8192
/** Readings of a round acknowledged before its kill, so every round adds data. */
const KILL_AFTER_ACKS = 200
const adminUrl = (b: BrokerProcess): string => `http://127.0.0.1:${b.ports.admin}`
const amqpUrl = (b: BrokerProcess): string => `amqp://guest:guest@127.0.0.1:${b.ports.amqp}`
const mqttUrl = (b: BrokerProcess): string => `mqtt://127.0.0.1:${b.ports.mqtt}`

function configYaml(server: S3Server): string {
  return `log:
  level: info
streams:
  segmentBytes: 4096
  blockBytes: 1024
tiering:
  url: s3://${server.bucket}/${KEY_PREFIX}
  s3:
    endpoint: ${server.endpoint}
    region: ${server.region}
    forcePathStyle: true
  checkIntervalMs: 20
  localBytesMax: ${LOCAL_BYTES_MAX}
  localAgeSeconds: 86400
  uploadRetryInitialMs: 50
  uploadRetryMaxMs: 400
archive:
  - filter: '${ARCHIVE_FILTER}'
    stream: ${ARCHIVE_STREAM}
`
}

/**
 * Publishes readings from..to-1 at QoS 1 (at most `window` unacknowledged), adding each PUBACKed
 * one to `acked`, until all are acknowledged or the connection is gone (the broker was killed).
 */
async function publishUntilClosed(client: MqttClient, from: number, to: number, acked: Set<number>, window = 50): Promise<void> {
  const closed = new Promise<void>(resolve => client.once('close', () => resolve()))
  for (let start = from; start < to && client.connected; start += window) {
    const batch: Array<Promise<unknown>> = []
    for (let i = start; i < Math.min(to, start + window); i++) {
      batch.push(
        client.publishAsync(readingTopic(i), reading(i), { qos: 1 }).then(
          () => {
            acked.add(i)
          },
          () => {}
        )
      )
    }
    await Promise.race([Promise.all(batch), closed])
  }
}

/** mqtt.js's end() never settles for a client whose broker was killed under it: no awaiting it. */
function drop(client: MqttClient | undefined): void {
  client?.end(true)
}

const numberOf = (body: string): number => Number(/^reading (\d{7}) /.exec(body)?.[1] ?? NaN)

test('SIGKILL during offload, three times: after restart nothing acknowledged is lost, nothing is read twice, no two segments in the bucket overlap', {
  timeout: 180_000
}, async t => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-tiering-crash-'))
  const server = await startS3Server()
  t.after(() => server.close())
  const configFile = join(dir, 'wharf.yaml')
  writeFileSync(configFile, configYaml(server))
  const env = {
    AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'
  }
  const dataDir = join(dir, 'data')
  const started: BrokerProcess[] = []
  const start = async (): Promise<BrokerProcess> => {
    const b = await startBrokerProcess(dataDir, env, ['--config', configFile])
    started.push(b)
    return b
  }
  const acked = new Set<number>()
  let device: MqttClient | undefined
  try {
    let sent = 0
    for (let round = 0; round < ROUNDS; round++) {
      const broker = await start()
      device = await mqttConnect(mqttUrl(broker), { clientId: `crash-device-${round}` })
      const ackedBefore = acked.size
      const publishing = publishUntilClosed(device, sent, sent + READINGS_PER_ROUND, acked)
      // Killed mid-offload: this round's readings are coming in, this process has uploaded a segment and more are due.
      const atKill = await pollUntil(
        `round ${round}: readings acknowledged, an upload done and more due`,
        () => tieringStatus(adminUrl(broker)),
        (s: TieringApi) => acked.size >= ackedBefore + KILL_AFTER_ACKS && s.uploaded_segments >= 1 && s.backlog_segments > 0,
        60_000
      )
      await broker.kill()
      await publishing
      drop(device)
      device = undefined
      sent += READINGS_PER_ROUND
      t.diagnostic(
        `round ${round}: killed after ${atKill.uploaded_segments} uploads with ${atKill.backlog_segments} segments due; ${acked.size} readings acknowledged so far`
      )
    }

    const broker = await start()
    const settled = await pollUntil(
      'the backlog to drain after the last restart',
      () => tieringStatus(adminUrl(broker)),
      s => s.backlog_segments === 0 && s.local_stream_bytes <= LOCAL_BYTES_MAX,
      60_000
    )
    assert.equal(settled.last_error, null, 'no upload failed')

    const tables = readStreamTables(join(dataDir, 'wharf.db'), ARCHIVE_STREAM)
    const total = tables.localRecords + tables.offloaded.reduce((n, s) => n + s.records, 0)
    assert.equal(tables.localRowsOfOffloaded, 0)
    assert.equal(tables.maxLocalOffset, total - 1, 'offsets 0..total-1 without a gap')

    const got = await readFromFirst(amqpUrl(broker), ARCHIVE_STREAM, total, 60_000)
    assert.equal(got.length, total, 'the consumer got the stream once, nothing more')
    assert.deepEqual(
      got.map(d => d.offset),
      Array.from({ length: total }, (_, i) => i)
    )
    const numbers = got.map(d => numberOf(d.body))
    for (let i = 0; i < got.length; i++) {
      const n = numbers[i] as number
      assert.ok(Number.isInteger(n), `delivery ${i} is not a reading: ${got[i]?.body.slice(0, 20)}`)
      assert.equal(got[i]?.body, reading(n))
      assert.equal(got[i]?.routingKey, readingRoutingKey(n))
      if (i > 0) assert.ok(n > (numbers[i - 1] as number), `reading ${n} after ${numbers[i - 1]}: out of order or twice`)
    }
    const present = new Set(numbers)
    const missing = [...acked].filter(n => !present.has(n))
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${acked.size} acknowledged readings missing`)

    const keys = await listBucket(server)
    const segments = parseSegmentKeys(keys)
    for (let i = 1; i < segments.length; i++) {
      const [prev, cur] = [segments[i - 1], segments[i]]
      assert.ok(
        prev !== undefined && cur !== undefined && prev.lastOffset < cur.firstOffset,
        `segments ${prev?.firstOffset}-${prev?.lastOffset} and ${cur?.firstOffset}-${cur?.lastOffset} overlap`
      )
    }
    assertContiguousFromZero(segments)
    assert.deepEqual(
      keys,
      tables.offloaded.map(s => `${KEY_PREFIX}/${s.objectKey}`),
      "the bucket holds exactly the manifest's segments"
    )
    t.diagnostic(`${acked.size} acknowledged of ${sent} sent; ${total} in the stream, ${segments.length} segments in the bucket`)
  } finally {
    drop(device)
    await Promise.all(started.map(b => b.kill()))
    rmSync(dir, { recursive: true, force: true })
  }
})
