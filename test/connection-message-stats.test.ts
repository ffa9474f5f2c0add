// Message counts and rates per connection and channel (issue 12), in RabbitMQ's message_stats shape:
// an amqplib publisher (confirms, a mandatory publish returned), consumer (acks, a nack with requeue:
// a redelivery), basic.get and a no-ack consumer, and mqtt.js clients publishing and receiving at QoS
// 0 and 1; totals exact, rates above 0 while traffic flows, `wharf ctl list connections` shows them.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ChannelModel } from 'amqplib'
import type { MqttClient } from 'mqtt'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect as amqpConnect, consume } from './support/amqp-helpers.ts'
import { collector, connect as mqttConnect, end } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'
import { eventually } from './support/wait.ts'

type Stats = Record<string, number | { rate: number }>
interface ConnectionJson {
  name: string
  protocol: string
  client_id?: string
  client_properties: Record<string, unknown>
  message_stats: Stats
}
interface ChannelJson {
  name: string
  connection_details: { name: string }
  message_stats: Stats
}

const wharfBin = fileURLToPath(new URL('../gateway/bin/wharf.js', import.meta.url))

async function getJson<T>(adminUrl: string, path: string): Promise<T> {
  const res = await adminFetch(`${adminUrl}${path}`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200, path)
  return (await res.json()) as T
}

const count = (s: Stats, name: string): number => s[name] as number
const rate = (s: Stats, name: string): number => (s[`${name}_details`] as { rate: number }).rate

describe('message_stats of connections and channels', { timeout: 90_000 }, () => {
  let broker: TestBroker
  const conns: ChannelModel[] = []
  const clients: MqttClient[] = []

  before(async () => {
    broker = await startTestBroker(c => {
      c.log.level = 'warn'
      c.metrics.rateSampleIntervalSeconds = 1
    })
  })
  after(async () => {
    await end(...clients)
    await closeQuietly(...conns)
    await broker.close()
  })

  test('AMQP: publish, confirm, return_unroutable, deliver, get, redeliver and ack counted per channel and summed per connection', async () => {
    const pubConn = await amqpConnect(broker.amqpUrl, { clientProperties: { connection_name: 'stats-publisher' } })
    conns.push(pubConn)
    const pub = await pubConn.createConfirmChannel()
    await pub.assertQueue('stats-q')
    for (let i = 0; i < 10; i++) pub.sendToQueue('stats-q', Buffer.from(`m${i}`))
    pub.publish('amq.direct', 'nowhere', Buffer.from('lost'), { mandatory: true })
    await pub.waitForConfirms()

    const subConn = await amqpConnect(broker.amqpUrl, { clientProperties: { connection_name: 'stats-consumer' } })
    conns.push(subConn)
    const sub = await channel(subConn)
    const got = await sub.get('stats-q', { noAck: false }) // basic.get in ack mode
    assert.ok(got !== false)
    sub.ack(got)
    let nacked = false
    const inbox = await consume(sub, 'stats-q', {}, m => {
      if (!nacked) {
        nacked = true
        sub.nack(m, false, true) // back to the queue: delivered again, redelivered
      } else sub.ack(m)
    })
    await inbox.waitFor(10) // 9 left after the get, one of them twice
    const noAck = await channel(subConn)
    await noAck.assertQueue('stats-noack')
    for (let i = 0; i < 3; i++) pub.sendToQueue('stats-noack', Buffer.from(`n${i}`))
    await pub.waitForConfirms()
    const fast = await consume(noAck, 'stats-noack', { noAck: true })
    await fast.waitFor(3)

    const conns_ = await getJson<ConnectionJson[]>(broker.adminUrl, '/api/connections')
    const pc = conns_.find(c => c.client_properties.connection_name === 'stats-publisher')
    const sc = conns_.find(c => c.client_properties.connection_name === 'stats-consumer')
    assert.ok(pc !== undefined && sc !== undefined)
    await eventually('the last acks counted', async () => {
      const c = (await getJson<ConnectionJson[]>(broker.adminUrl, '/api/connections')).find(c => c.name === sc.name)
      return c !== undefined && count(c.message_stats, 'ack') === 10
    })
    assert.deepEqual(
      ['publish', 'confirm', 'return_unroutable', 'deliver_get'].map(n => count(pc.message_stats, n)),
      [14, 14, 1, 0]
    )
    const s = (await getJson<ConnectionJson[]>(broker.adminUrl, '/api/connections')).find(c => c.name === sc.name) as ConnectionJson
    assert.deepEqual(
      ['publish', 'deliver', 'deliver_no_ack', 'get', 'get_no_ack', 'deliver_get', 'redeliver', 'ack'].map(n => count(s.message_stats, n)),
      [0, 10, 3, 1, 0, 14, 1, 10]
    )
    for (const name of ['publish', 'confirm', 'deliver', 'deliver_get', 'redeliver', 'ack']) assert.equal(typeof rate(s.message_stats, name), 'number')

    // Per channel, as RabbitMQ: the consumer's two channels split what the connection sums.
    const channels = await getJson<ChannelJson[]>(broker.adminUrl, `/api/connections/${encodeURIComponent(sc.name)}/channels`)
    assert.equal(channels.length, 2)
    const [first, second] = channels.map(ch => ch.message_stats) as [Stats, Stats]
    assert.deepEqual([count(first, 'deliver'), count(first, 'get'), count(first, 'ack'), count(first, 'redeliver')], [10, 1, 10, 1])
    assert.deepEqual([count(second, 'deliver_no_ack'), count(second, 'deliver_get'), count(second, 'ack')], [3, 3, 0])
    const one = await getJson<ChannelJson>(broker.adminUrl, `/api/channels/${encodeURIComponent((channels[0] as ChannelJson).name)}`)
    assert.equal(count(one.message_stats, 'deliver_get'), 11)
  })

  test('MQTT: publish and confirm (PUBACK) of a publisher, deliver / deliver_no_ack and ack of a subscriber', async () => {
    const sensor = await mqttConnect(broker.mqttUrl, { clientId: 'stats-sensor', protocolVersion: 5 })
    const display = await mqttConnect(broker.mqttUrl, { clientId: 'stats-display', protocolVersion: 5 })
    clients.push(sensor, display)
    const inbox = collector(display)
    await display.subscribeAsync('stats/q1/#', { qos: 1 })
    await display.subscribeAsync('stats/q0/#', { qos: 0 })
    for (let i = 0; i < 5; i++) await sensor.publishAsync('stats/q1/t', `a${i}`, { qos: 1 })
    for (let i = 0; i < 4; i++) await sensor.publishAsync('stats/q0/t', `b${i}`, { qos: 0 })
    await inbox.waitFor(9)
    const byClient = async (id: string): Promise<Stats> => {
      const c = (await getJson<ConnectionJson[]>(broker.adminUrl, '/api/connections')).find(c => c.client_id === id)
      assert.ok(c !== undefined, id)
      return c.message_stats
    }
    await eventually('the display acked its QoS 1 deliveries', async () => count(await byClient('stats-display'), 'ack') === 5)
    const s = await byClient('stats-sensor')
    assert.deepEqual(
      ['publish', 'confirm', 'deliver_get'].map(n => count(s, n)),
      [9, 5, 0]
    )
    const d = await byClient('stats-display')
    assert.deepEqual(
      ['publish', 'deliver', 'deliver_no_ack', 'deliver_get', 'ack', 'redeliver'].map(n => count(d, n)),
      [0, 5, 4, 9, 5, 0]
    )
  })

  test('rates: sampled on a timer, so a first and single request while messages flow reads them above 0', async () => {
    const sensor = await mqttConnect(broker.mqttUrl, { clientId: 'rate-sensor', protocolVersion: 5 })
    const display = await mqttConnect(broker.mqttUrl, { clientId: 'rate-display', protocolVersion: 5 })
    clients.push(sensor, display)
    const inbox = collector(display)
    await display.subscribeAsync('rates/#', { qos: 1 })
    let flowing = true
    const loop = (async () => {
      for (let i = 0; flowing; i++) {
        await sensor.publishAsync('rates/t', `r${i}`, { qos: 1 })
        await new Promise(resolve => setTimeout(resolve, 5))
      }
    })()
    try {
      // No request reads these connections before the one below: only the sampler (every second) does.
      const startedMs = Date.now()
      await eventually('messages flowing for over two sampling intervals', () => inbox.messages.length >= 20 && Date.now() - startedMs > 2500, 20_000)
      const out = await ctl(['--url', broker.adminUrl, '--json', 'list', 'connections'])
      const all = JSON.parse(out.stdout) as ConnectionJson[]
      const s = all.find(c => c.client_id === 'rate-sensor')?.message_stats as Stats
      const d = all.find(c => c.client_id === 'rate-display')?.message_stats as Stats
      assert.ok(rate(s, 'publish') > 0 && rate(s, 'confirm') > 0, JSON.stringify(s))
      assert.ok(rate(d, 'deliver') > 0 && rate(d, 'deliver_get') > 0 && rate(d, 'ack') > 0, JSON.stringify(d))
      assert.equal(rate(s, 'deliver_get'), 0)
    } finally {
      flowing = false
      await loop
    }
  })

  test('wharf ctl list connections shows totals and rates (sampled on a timer: one request reads them); --json has message_stats', async () => {
    const out = await ctl(['--url', broker.adminUrl, 'list', 'connections'])
    assert.equal(out.code, 0, out.stderr)
    assert.match(out.stdout, /^NAME +PROTOCOL +USER +VHOST +CLIENT +CONNECTED +CHANNELS +PUBLISHED +PUBLISH\/S +DELIVERED +DELIVER\/S$/m)
    assert.match(out.stdout, /MQTT 5\.0 +\/ +stats-sensor +\S+ +0 +9 +[\d.]+ +0 +0$/m)
    assert.match(out.stdout, /MQTT 5\.0 +\/ +stats-display +\S+ +0 +0 +0 +9 +[\d.]+$/m)
    const channels = await ctl(['--url', broker.adminUrl, 'list', 'channels'])
    assert.match(channels.stdout, /^NAME +USER +VHOST +CONSUMERS +UNACKED +PREFETCH +PUBLISHED +CONFIRMED +DELIVERED +ACKED$/m)
    assert.match(channels.stdout, / 14 +14 +0 +0$/m)
    const json = JSON.parse((await ctl(['--url', broker.adminUrl, '--json', 'list', 'connections'])).stdout) as ConnectionJson[]
    assert.ok(json.every(c => typeof rate(c.message_stats, 'publish') === 'number'))
  })
})

function ctl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
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
