// GET /api/diagnose and `wharf ctl diagnose` (issue 12): each cause produced with real clients and
// named with its numbers and a suggestion — a queue without consumer (backlog growing), AMQP consumers
// at their prefetch and an MQTT client at its Receive Maximum (no acks), a redelivery loop (a consumer
// that nacks with requeue), publishers refused at the disk watermark, a publisher held by a publish
// rate limit, and an object store that went down: uploads back up and a stream consumer replaying
// from `first` waits on cold reads.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ChannelModel } from 'amqplib'
import type { MqttClient } from 'mqtt'
import type { WharfConfig } from '../edge-config/config-types.ts'
import type { Diagnosis, QueueDiagnosis } from '../core/diagnosis/diagnose.ts'
import type { Finding } from '../core/diagnosis/finding.ts'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect as amqpConnect, consume } from './support/amqp-helpers.ts'
import { connect as mqttConnect, end } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'
import { startS3Server } from './support/s3-server.ts'
import { restartablePorts } from '../bench/brokers/free-port.ts'
import { ARCHIVE_FILTER, ARCHIVE_STREAM, KEY_PREFIX, pollUntil, publishReadings, tieringStatus, useS3Credentials } from './support/tiering-e2e.ts'

const wharfBin = fileURLToPath(new URL('../gateway/bin/wharf.js', import.meta.url))

async function diagnosis(adminUrl: string): Promise<Diagnosis> {
  const res = await adminFetch(`${adminUrl}/api/diagnose`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200)
  return (await res.json()) as Diagnosis
}

function queueOf(d: Diagnosis, name: string): QueueDiagnosis | undefined {
  return d.queues.find(q => q.queue === name)
}

function findingOf(d: Diagnosis, queue: string, cause: Finding['cause']): Finding | undefined {
  return queueOf(d, queue)?.findings.find(f => f.cause === cause)
}

/** Polls /api/diagnose until `pick` finds something. */
async function until<T>(adminUrl: string, what: string, pick: (d: Diagnosis) => T | undefined, timeoutMs = 20_000): Promise<T> {
  const d = await pollUntil(
    what,
    async () => await diagnosis(adminUrl),
    d => pick(d) !== undefined,
    timeoutMs
  )
  return pick(d) as T
}

function wharfCtl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    const { WHARF_URL: _url, WHARF_USER: _user, WHARF_PASSWORD: _password, ...env } = process.env
    const child = spawn(process.execPath, [wharfBin, 'ctl', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString()
    })
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.on('close', code => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

describe('diagnosis of queue lag (one broker, causes in the queues)', { timeout: 90_000 }, () => {
  let broker: TestBroker
  const conns: ChannelModel[] = []
  const clients: MqttClient[] = []

  before(async () => {
    broker = await startTestBroker(config => {
      config.log.level = 'info'
      config.diagnose.sampleIntervalSeconds = 1
    })
  })
  after(async () => {
    await end(...clients)
    await closeQuietly(...conns)
    await broker.close()
  })

  test('no consumer: the backlog and its growth; a healthy node says so first', async () => {
    assert.equal((await diagnosis(broker.adminUrl)).healthy, true)
    const conn = await amqpConnect(broker.amqpUrl)
    conns.push(conn)
    const ch = await conn.createConfirmChannel()
    await ch.assertQueue('orders', { durable: true })
    for (let i = 0; i < 20; i++) ch.sendToQueue('orders', Buffer.from(`order ${i}`), { persistent: true })
    await ch.waitForConfirms()
    // Published again after the sampler saw 20: the lag is growing.
    await pollUntil(
      'a sample of 20',
      async () => await diagnosis(broker.adminUrl),
      d => (queueOf(d, 'orders')?.trend?.samples ?? 0) >= 2
    )
    for (let i = 20; i < 50; i++) ch.sendToQueue('orders', Buffer.from(`order ${i}`), { persistent: true })
    await ch.waitForConfirms()
    const d = await diagnosis(broker.adminUrl)
    const f = findingOf(d, 'orders', 'no-consumer')
    assert.ok(f !== undefined, JSON.stringify(d))
    assert.equal(f.numbers.ready, 50)
    assert.ok(Number(f.numbers.growthPerSecond) > 0, 'the backlog is growing')
    assert.match(f.summary, /^no consumer: 50 messages ready, growing by [\d.]+\/s$/)
    assert.match(f.suggestion, /start a consumer on 'orders'/)
    assert.equal(d.healthy, false)
  })

  test('AMQP consumers at their prefetch: unacked = prefetch, the rest waits', async () => {
    const conn = await amqpConnect(broker.amqpUrl)
    conns.push(conn)
    const ch = await channel(conn)
    await ch.assertQueue('invoices')
    await ch.prefetch(2)
    await consume(ch, 'invoices') // never acks
    for (let i = 0; i < 10; i++) ch.sendToQueue('invoices', Buffer.from(`invoice ${i}`))
    const f = await until(broker.adminUrl, 'consumers at prefetch', d => findingOf(d, 'invoices', 'consumers-at-prefetch'))
    assert.deepEqual([f.numbers.consumers, f.numbers.unacked, f.numbers.windowMax, f.numbers.ready], [1, 2, 2, 8])
    assert.match(f.summary, /all 1 consumers are at their prefetch \/ Receive Maximum \(2 of 2 unacknowledged\) while 8 wait/)
  })

  test('an MQTT 5 client at its Receive Maximum: its session queue holds the rest', async () => {
    const slow = await mqttConnect(broker.mqttUrl, { clientId: 'slow-device', protocolVersion: 5, properties: { receiveMaximum: 3 } })
    clients.push(slow)
    slow.handleMessage = (_packet, _done) => {} // never PUBACKs
    await slow.subscribeAsync('alerts/#', { qos: 1 })
    const pub = await mqttConnect(broker.mqttUrl, { clientId: 'alert-source' })
    clients.push(pub)
    for (let i = 0; i < 10; i++) await pub.publishAsync('alerts/line1', `alert ${i}`, { qos: 1 })
    const f = await until(broker.adminUrl, 'the session at its Receive Maximum', d => findingOf(d, 'mqtt-session/slow-device', 'consumers-at-prefetch'))
    assert.deepEqual([f.numbers.unacked, f.numbers.windowMax, f.numbers.ready], [3, 3, 7])
  })

  test('a redelivery loop: a consumer that nacks with requeue sends the same message round and round', async () => {
    const conn = await amqpConnect(broker.amqpUrl)
    conns.push(conn)
    const ch = await channel(conn)
    await ch.assertQueue('poison')
    ch.sendToQueue('poison', Buffer.from('cannot be processed'))
    let deliveries = 0
    const { consumerTag } = await ch.consume('poison', m => {
      if (m !== null) {
        deliveries++
        ch.nack(m, false, true)
      }
    })
    const f = await until(broker.adminUrl, 'the redelivery loop', d => findingOf(d, 'poison', 'redelivery-loop'))
    await ch.cancel(consumerTag)
    assert.equal(f.numbers.messages, 1)
    assert.ok(Number(f.numbers.deliveriesMax) >= 3, `delivered ${f.numbers.deliveriesMax} times`)
    assert.ok(deliveries >= 3)
    assert.match(f.summary, /^1 messages were delivered 3 times or more \(up to \d+\)/)
    assert.match(f.suggestion, /x-dead-letter-exchange/)
  })

  test("wharf ctl diagnose prints each queue and cause, exits 4; --json is the API's answer; a refusal exits 1, an unreachable broker 3", async () => {
    const text = await wharfCtl(['--url', broker.adminUrl, 'diagnose'])
    assert.equal(text.code, 4, text.stderr)
    assert.match(text.stderr, /^wharf ctl: diagnose: \d+ queues lag, 0 node conditions$/m)
    assert.match(text.stdout, /^Wharf diagnosis at \S+: \d+ queues with a backlog, 0 node conditions/)
    assert.match(text.stdout, /^QUEUE +VHOST +TYPE +BACKLOG +UNACKED +CONSUMERS +TREND$/m)
    assert.match(text.stdout, /^orders +\/ +classic +50 +0 +0 /m)
    assert.match(text.stdout, /^ {2}no-consumer: no consumer: 50 messages ready/m)
    assert.match(text.stdout, /^ {4}-> start a consumer on 'orders'/m)
    assert.match(text.stdout, /consumers-at-prefetch: all 1 consumers/)
    const json = await wharfCtl(['--url', broker.adminUrl, '--json', 'diagnose'])
    assert.equal(json.code, 4)
    const d = JSON.parse(json.stdout) as Diagnosis
    assert.ok(findingOf(d, 'orders', 'no-consumer') !== undefined)
    const refused = await wharfCtl(['--url', broker.adminUrl, '--user', 'guest', '--password', 'wrong', 'diagnose'])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /^wharf ctl: GET \/api\/diagnose: 401 Unauthorized: /)
    // Below the ephemeral range, where no other test's port-0 listener can take it meanwhile.
    const [closedPort] = (await restartablePorts(1)) as [number]
    const unreachable = await wharfCtl(['--url', `http://127.0.0.1:${closedPort}`, 'diagnose'])
    assert.equal(unreachable.code, 3)
    assert.match(unreachable.stderr, new RegExp(`GET http://127\\.0\\.0\\.1:${closedPort}/api/diagnose: cannot reach the broker's admin API: ECONNREFUSED`))
    const usage = await wharfCtl(['frobnicate'])
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /unknown command "frobnicate"/)
  })
})

describe('diagnosis of what holds publishers back', { timeout: 90_000 }, () => {
  test('the disk watermark: AMQP publishers blocked and MQTT publishes refused, with the figures', async t => {
    // Below the database's size at start: the watermark holds from the first check.
    const broker = await startTestBroker(config => {
      config.storage.localBytesMax = 4096
      config.tiering.localBytesMax = 1024
      config.storage.diskCheckIntervalMs = 20
    })
    t.after(() => broker.close())
    let conn: ChannelModel | undefined
    const device = await mqttConnect(broker.mqttUrl, { clientId: 'refused', protocolVersion: 5 })
    try {
      conn = await amqpConnect(broker.amqpUrl)
      const ch = await channel(conn)
      await ch.assertQueue('blocked-q')
      ch.sendToQueue('blocked-q', Buffer.from('held'))
      await device.publishAsync('plant/x', 'refused', { qos: 1 }).catch(() => {})
      const f = await until(broker.adminUrl, 'publishers blocked', d =>
        d.node.find(n => n.cause === 'publishers-blocked-disk' && Number(n.numbers.blockedConnections) === 1 && Number(n.numbers.refusedPublishes) >= 1)
      )
      assert.equal(f.numbers.localBytesMax, 4096)
      assert.ok(Number(f.numbers.bytes) > 4096)
      assert.match(
        f.summary,
        /^publishers are refused at the disk watermark: local store .* over storage\.localBytesMax 4 KiB \(1 AMQP connections blocked, \d+ MQTT publishes refused\)$/
      )
    } finally {
      await end(device)
      await closeQuietly(conn)
    }
  })

  test('a publish rate limit: the throttled connection, its user and the limit', async () => {
    const broker = await startTestBroker(config => {
      config.limits.perConnection.publishMessagesPerSecond = 5
    })
    let conn: ChannelModel | undefined
    try {
      // No heartbeats: the socket is destroyed at the end (a throttled connection would not answer a
      // close), and amqplib, which learns of no 'error' or 'end', kept the file alive for 3 x 60 s.
      conn = await amqpConnect(`${broker.amqpUrl}?heartbeat=0`)
      const ch = await channel(conn)
      await ch.assertQueue('metered')
      for (let i = 0; i < 200; i++) ch.sendToQueue('metered', Buffer.from(`m${i}`))
      const f = await until(broker.adminUrl, 'the throttled publisher', d => d.node.find(n => n.cause === 'publishers-blocked-rate-limit'))
      assert.deepEqual([f.numbers.connections, f.numbers.limits, f.numbers.users], [1, 'limits.perConnection.publishMessagesPerSecond', 'guest'])
      assert.match(f.suggestion, /limits\.perConnection\.publishMessagesPerSecond/)
    } finally {
      if (conn !== undefined) (conn.connection as unknown as { stream: { destroy(): void } }).stream.destroy()
      await broker.close()
    }
  })
})

describe('diagnosis with the object store down', { timeout: 120_000 }, () => {
  test('uploads back up (object store unreachable) and a replay from first waits on cold reads', async t => {
    // Each start registers its stop: a later one that fails, or the connect below, leaves nothing running.
    const server = await startS3Server()
    t.after(() => server.close())
    const restoreEnv = useS3Credentials(server)
    t.after(restoreEnv)
    const broker = await startTestBroker((config: WharfConfig) => {
      config.log.level = 'info'
      config.streams.segmentBytes = 8192
      config.streams.blockBytes = 2048
      config.tiering.url = `s3://${server.bucket}/${KEY_PREFIX}`
      config.tiering.s3 = { endpoint: server.endpoint, region: server.region, forcePathStyle: true }
      config.tiering.checkIntervalMs = 50
      config.tiering.localBytesMax = 16_384
      config.tiering.uploadRetryInitialMs = 50
      config.tiering.uploadRetryMaxMs = 400
      config.archive = [{ filter: ARCHIVE_FILTER, stream: ARCHIVE_STREAM }]
    })
    t.after(() => broker.close())
    const device = await mqttConnect(broker.mqttUrl, { clientId: 'dev-down' })
    let conn: ChannelModel | undefined
    try {
      await publishReadings(device, 0, 300)
      await pollUntil(
        'segments offloaded',
        () => tieringStatus(broker.adminUrl),
        s => s.uploaded_segments > 3 && s.backlog_segments === 0
      )
      await server.stop()
      await publishReadings(device, 300, 600)
      const down = await until(broker.adminUrl, 'the object store down', d => d.node.find(n => n.cause === 'object-store-unreachable'))
      assert.ok(Number(down.numbers.backlogSegments) > 0)
      assert.ok(Number(down.numbers.uploadFailures) > 0)
      assert.match(String(down.numbers.lastError), /^tiering: (put|list) /)
      assert.match(down.summary, new RegExp(`^the object store s3://${server.bucket}/${KEY_PREFIX} fails`))

      conn = await amqpConnect(broker.amqpUrl)
      const ch = await channel(conn)
      await ch.prefetch(50)
      await consume(ch, ARCHIVE_STREAM, { arguments: { 'x-stream-offset': 'first' } }, m => ch.ack(m))
      const cold = await until(broker.adminUrl, 'the replay waiting on cold reads', d => findingOf(d, ARCHIVE_STREAM, 'cold-reads'))
      assert.equal(cold.numbers.consumersWaiting, 1)
      assert.equal(cold.numbers.lagMax, 600, 'the consumer is at offset 0 of 600')
      assert.equal(queueOf(await diagnosis(broker.adminUrl), ARCHIVE_STREAM)?.type, 'stream')
    } finally {
      await closeQuietly(conn)
      await end(device)
    }
  })
})
