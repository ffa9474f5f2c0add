// Metering through a running broker (issue 12): /api/usage gives per vhost, protocol and user the
// messages and bytes in and out and the stored bytes (local, cold); usage records (JSON lines) go to
// the object store every metering.recordIntervalSeconds (1 s here) and once more at shutdown, and
// after the edge box's data directory is gone they still add up to every message counted.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { startTestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect as amqpConnect, consume } from './support/amqp-helpers.ts'
import { collector, connect as mqttConnect, end, eventually } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'

interface Traffic {
  messages_in: number
  bytes_in: number
  messages_out: number
  bytes_out: number
}
interface UsageApi {
  node: string
  vhosts: Array<{
    vhost: string
    stored: { local_bytes: number; cold_bytes: number }
    protocols: Record<string, Traffic>
    users: Array<Traffic & { user: string | null; protocol: string }>
  }>
  records: { interval_seconds: number; written: number; failures: number; last_key: string | null; last_error: string | null }
}

async function usage(adminUrl: string): Promise<UsageApi> {
  const res = await adminFetch(`${adminUrl}/api/usage`)
  assert.equal(res.status, 200)
  return (await res.json()) as UsageApi
}

function recordFiles(coldDir: string, node: string): string[] {
  try {
    return readdirSync(join(coldDir, '_usage', node))
      .filter(f => f.endsWith('.jsonl'))
      .sort()
  } catch {
    return []
  }
}

test('usage per vhost, protocol and user in /api/usage, and records in the object store that outlive the data directory', { timeout: 60_000 }, async () => {
  const coldDir = mkdtempSync(join(tmpdir(), 'wharf-cold-'))
  const broker = await startTestBroker(config => {
    config.tiering.url = pathToFileURL(coldDir).href
    config.metering.recordIntervalSeconds = 1
    config.metering.node = 'edge-test'
  })
  try {
    const sub = await mqttConnect(broker.mqttUrl, { clientId: 'meter-sub' })
    const inbox = collector(sub)
    await sub.subscribeAsync('meter/#', { qos: 1 })
    const pub = await mqttConnect(broker.mqttUrl, { clientId: 'meter-pub' })
    for (let i = 0; i < 4; i++) await pub.publishAsync('meter/a', Buffer.alloc(100, 'm'), { qos: 1 })
    await inbox.waitFor(4)
    const conn = await amqpConnect(broker.amqpUrl)
    const ch = await channel(conn)
    await ch.assertQueue('billing', { durable: true })
    for (let i = 0; i < 3; i++) ch.sendToQueue('billing', Buffer.alloc(50, 'b'), { persistent: true })
    ch.sendToQueue('billing-kept', Buffer.alloc(10)) // unroutable: counted in, stored nowhere
    const got = await consume(ch, 'billing', {}, m => ch.ack(m))
    await got.waitFor(3)
    await ch.assertQueue('backlog', { durable: true })
    ch.sendToQueue('backlog', Buffer.alloc(1000, 'k'), { persistent: true })
    await eventually('the backlog message stored', async () => (await usage(broker.adminUrl)).vhosts[0]?.stored.local_bytes === 1000)

    const u = await usage(broker.adminUrl)
    assert.equal(u.node, 'edge-test')
    const root = u.vhosts.find(v => v.vhost === '/')
    assert.ok(root !== undefined)
    assert.deepEqual(root.protocols.mqtt, { messages_in: 4, bytes_in: 400, messages_out: 4, bytes_out: 400 })
    assert.deepEqual(root.protocols.amqp, { messages_in: 5, bytes_in: 1160, messages_out: 3, bytes_out: 150 })
    assert.deepEqual(root.users.find(x => x.protocol === 'amqp')?.user, 'guest')
    assert.equal(root.users.find(x => x.protocol === 'mqtt')?.user, null)
    assert.deepEqual(root.stored, { local_bytes: 1000, cold_bytes: 0 })

    await eventually('a usage record in the object store', () => recordFiles(coldDir, 'edge-test').length > 0, 5000)
    assert.equal((await usage(broker.adminUrl)).records.interval_seconds, 1)
    await end(sub, pub)
    await closeQuietly(conn)
    await broker.close() // writes the last, partial interval, then the data directory is deleted

    const files = recordFiles(coldDir, 'edge-test')
    for (const f of files) assert.match(f, /^\d{8}T\d{6}\.\d{3}Z-\d{8}T\d{6}\.\d{3}Z\.jsonl$/)
    const lines = files.flatMap(f =>
      readFileSync(join(coldDir, '_usage', 'edge-test', f), 'utf8')
        .trimEnd()
        .split('\n')
        .map(l => JSON.parse(l) as Record<string, unknown>)
    )
    const sum = (protocol: string, field: string): number =>
      lines.filter(l => l.type === 'traffic' && l.protocol === protocol).reduce((n, l) => n + Number(l[field]), 0)
    assert.deepEqual(
      [
        sum('mqtt', 'messagesIn'),
        sum('mqtt', 'bytesIn'),
        sum('mqtt', 'messagesOut'),
        sum('amqp', 'messagesIn'),
        sum('amqp', 'bytesIn'),
        sum('amqp', 'messagesOut')
      ],
      [4, 400, 4, 5, 1160, 3],
      'the records add up to every message counted'
    )
    const stored = lines.filter(l => l.type === 'stored' && l.vhost === '/')
    assert.equal(stored.length, files.length, 'each record holds the stored bytes of every vhost')
    assert.equal(stored.at(-1)?.localBytes, 1000)
    for (const l of lines) assert.equal(l.node, 'edge-test')
  } finally {
    await broker.close()
    rmSync(coldDir, { recursive: true, force: true })
  }
})
