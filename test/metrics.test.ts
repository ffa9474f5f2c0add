// /metrics through a running broker with MQTT and AMQP traffic (issue 12): Prometheus's own parser
// (promtool) reads it; every *_total is a counter; series carry vhost, queue, protocol and listener
// labels, queues beyond metrics.queueLabelsMax sum under queue="_other"; the commit and
// publish-to-ack histograms count what happened; the process and Node runtime metrics are there;
// wharf_store_local_bytes is measured with the disk watermark off. The Grafana dashboard shipped in
// gateway/grafana/ only names metrics (and labels) that this exposition has.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { ChannelModel } from 'amqplib'
import type { MqttClient } from 'mqtt'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect as amqpConnect, closeQuietly } from './support/amqp-helpers.ts'
import { collector, connect as mqttConnect, end } from './support/mqtt-helpers.ts'
import { metricTypes, promtoolCheckMetrics, samples } from './support/promtool.ts'
import { adminFetch } from './support/admin-http.ts'

/** prom-client's default gauges named *_total (Node's handle counts): promtool's lint flags them, not its parser. */
const PROM_CLIENT_LINT = /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/

describe('/metrics', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let amqp: ChannelModel | undefined
  let device: MqttClient | undefined
  let exposition = ''

  before(async () => {
    broker = await startTestBroker(config => {
      config.metrics.queueLabelsMax = 3
    })
    device = await mqttConnect(broker.mqttUrl, { clientId: 'meter-device' })
    const inbox = collector(device)
    await device.subscribeAsync('plant/#', { qos: 1 })
    for (let i = 0; i < 5; i++) await device.publishAsync('plant/line1/temp', `reading ${i}`, { qos: 1 })
    await inbox.waitFor(5)
    amqp = await amqpConnect(broker.amqpUrl)
    const ch = await amqp.createConfirmChannel()
    for (const q of ['orders', 'invoices', 'returns', 'audit']) {
      await ch.assertQueue(q, { durable: true })
      ch.sendToQueue(q, Buffer.from(`to ${q}`), { persistent: true })
    }
    await ch.waitForConfirms()
    exposition = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
  })

  after(async () => {
    await end(device)
    await closeQuietly(amqp)
    await broker.close()
  })

  test("parses with promtool; the only lint problems are prom-client's own default gauges", () => {
    const r = promtoolCheckMetrics(exposition)
    assert.ok(r.status === 0 || r.status === 3, `promtool exit ${r.status}: ${r.problems.join('\n')}`)
    const ours = r.problems.filter(p => !PROM_CLIENT_LINT.test(p))
    assert.deepEqual(ours, [], "lint problems in Wharf's families")
  })

  test('every wharf *_total family is a counter, and latencies are histograms', () => {
    const types = metricTypes(exposition)
    const totals = [...types].filter(([name]) => name.startsWith('wharf_') && name.endsWith('_total'))
    assert.ok(totals.length >= 30, `only ${totals.length} wharf *_total families`)
    for (const [name, type] of totals) assert.equal(type, 'counter', `${name} is a ${type}`)
    assert.equal(types.get('wharf_store_commit_seconds'), 'histogram')
    assert.equal(types.get('wharf_publish_ack_seconds'), 'histogram')
  })

  test('queues are labelled by vhost and queue, up to metrics.queueLabelsMax; the rest sum under _other', () => {
    const ready = samples(exposition, 'wharf_queue_messages_ready')
    const own = [...ready.keys()].filter(k => !k.includes('queue="_other"'))
    assert.equal(own.length, 3, `own series: ${own.join(' ')}`)
    for (const k of ready.keys()) assert.match(k, /^\{vhost="\/",queue="[^"]+"\}$/)
    // Five queues (the MQTT session and four AMQP queues) of one message each at most: three own, two summed.
    const total = [...ready.values()].reduce((a, b) => a + b, 0)
    assert.equal(total, 4, 'the four AMQP messages are counted once, labelled or under _other')
    assert.ok((ready.get('{vhost="/",queue="_other"}') ?? 0) >= 1)
    assert.equal(samples(exposition, 'wharf_queues').get('{vhost="/"}'), 5)
  })

  test('connections by protocol and listener; usage by vhost, user and protocol', () => {
    const conns = samples(exposition, 'wharf_connections')
    assert.equal(conns.get('{protocol="mqtt",listener="mqtt"}'), 1)
    assert.equal(conns.get('{protocol="amqp",listener="amqp"}'), 1)
    const msgsIn = samples(exposition, 'wharf_usage_messages_in_total')
    assert.equal(msgsIn.get('{vhost="/",user="",protocol="mqtt"}'), 5)
    assert.equal(msgsIn.get('{vhost="/",user="guest",protocol="amqp"}'), 4)
    assert.equal(samples(exposition, 'wharf_usage_messages_out_total').get('{vhost="/",user="",protocol="mqtt"}'), 5)
    assert.equal(samples(exposition, 'wharf_usage_bytes_in_total').get('{vhost="/",user="",protocol="mqtt"}'), 5 * 'reading 0'.length)
    assert.ok((samples(exposition, 'wharf_usage_stored_bytes').get('{vhost="/",tier="local"}') ?? 0) > 0)
  })

  test('commit and publish-to-ack histograms counted what happened', () => {
    const commits = samples(exposition, 'wharf_store_commits_total').get('') ?? 0
    assert.ok(commits > 0)
    assert.equal(samples(exposition, 'wharf_store_commit_seconds_count').get(''), commits, 'one observation per group commit')
    assert.equal(samples(exposition, 'wharf_publish_ack_seconds_count').get('{protocol="mqtt"}'), 5, 'five QoS 1 PUBACKs')
    assert.equal(samples(exposition, 'wharf_publish_ack_seconds_count').get('{protocol="amqp"}'), 4, 'four confirms')
    assert.ok((samples(exposition, 'wharf_publish_ack_seconds_bucket').get('{le="+Inf",protocol="amqp"}') ?? 0) === 4)
  })

  test('process and Node.js runtime metrics are there', () => {
    const types = metricTypes(exposition)
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds'
    ]) {
      assert.ok(types.has(name), `${name} missing`)
    }
  })

  test('wharf_store_local_bytes reads the database size with the disk watermark off', () => {
    assert.equal(broker.node.metrics.value('wharf_store_local_bytes') > 0, true)
    assert.ok((samples(exposition, 'wharf_store_local_bytes').get('') ?? 0) > 4096)
  })

  test('the Grafana dashboard names only metrics and labels that /metrics has', () => {
    const dashboard = JSON.parse(readFileSync(new URL('../gateway/grafana/wharf-dashboard.json', import.meta.url), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>
    }
    const families = metricTypes(exposition)
    const labelsOf = (family: string): Set<string> => {
      const names = new Set<string>()
      for (const name of [family, `${family}_bucket`]) {
        for (const labels of samples(exposition, name).keys()) for (const m of labels.matchAll(/([a-zA-Z_]\w*)="/g)) names.add(m[1] as string)
      }
      return names
    }
    assert.ok(dashboard.panels.length >= 10)
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets.length > 0, `${panel.title}: no query`)
      for (const { expr } of panel.targets) {
        const named = [...expr.matchAll(/\b((?:wharf|process|nodejs)_[a-zA-Z0-9_]+)(\{[^}]*\})?/g)]
        assert.ok(named.length > 0, `${panel.title}: ${expr} names no metric`)
        for (const m of named) {
          const name = m[1] as string
          const family = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '')
          assert.ok(families.has(family), `${panel.title}: ${name} is not in /metrics`)
          for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)\s*[=!]~?/g)) {
            assert.ok(labelsOf(family).has(l[1] as string), `${panel.title}: ${family} has no label ${l[1]}`)
          }
        }
        for (const by of expr.matchAll(/by \(([^)]*)\)/g)) {
          const family = (named[0] as RegExpMatchArray)[1] as string
          const base = families.has(family) ? family : family.replace(/_(bucket|sum|count)$/, '')
          for (const l of (by[1] as string).split(',').map(s => s.trim())) {
            assert.ok(l === 'le' || labelsOf(base).has(l), `${panel.title}: by (${by[1]}) on ${base}, which has no label ${l}`)
          }
        }
      }
    }
  })
})
