// The Grafana dashboard (gateway/grafana/wharf-dashboard.json) against Prometheus itself (issue 12).
// No Grafana can be installed here (Debian has no grafana package and npm no Grafana server), so the
// part of it that can break is checked with Prometheus's own tools: promtool parses every panel query
// (as recording rules), and a real Prometheus scrapes a running Wharf under MQTT and AMQP traffic and
// evaluates every query, every metric selector in it and every `by` label against what Wharf exports.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChannelModel } from 'amqplib'
import type { MqttClient } from 'mqtt'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { closeQuietly, connect as amqpConnect } from './support/amqp-helpers.ts'
import { connect as mqttConnect, end } from './support/mqtt-helpers.ts'
import { PROMTOOL } from './support/promtool.ts'
import { PROMETHEUS, startPrometheus, type PrometheusNode } from './support/prometheus-server.ts'
import { eventually } from './support/wait.ts'

interface Dashboard {
  panels: Array<{ title: string; targets: Array<{ refId: string; expr: string }> }>
  templating: { list: Array<{ name: string; type: string; definition?: string }> }
}

const dashboard = JSON.parse(readFileSync(new URL('../gateway/grafana/wharf-dashboard.json', import.meta.url), 'utf8')) as Dashboard

/** Grafana's variables as Grafana would expand them with "All" selected and a 1 s scrape interval. */
function expand(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$vhost', '.*')
}

const queries = dashboard.panels.flatMap((p, i) => p.targets.map(t => ({ panel: p.title, record: `dashboard:panel_${i}_${t.refId}`, expr: expand(t.expr) })))

/** The metric selectors of an expression: a Wharf, process or Node.js name and its label matchers. */
function selectors(expr: string): string[] {
  return [...expr.matchAll(/\b((?:wharf|process|nodejs)_[a-zA-Z0-9_]+)(\{[^}]*\})?/g)].map(m => `${m[1]}${m[2] ?? ''}`)
}

describe('the Grafana dashboard through promtool and Prometheus', { timeout: 120_000 }, () => {
  test('promtool parses every panel query', () => {
    assert.ok(existsSync(PROMTOOL), `${PROMTOOL} is missing: install Debian's prometheus package (test/debian-packages.sh does)`)
    assert.ok(queries.length >= 20, `${queries.length} queries`)
    const dir = mkdtempSync(join(tmpdir(), 'wharf-test-dashboard-rules-'))
    try {
      const file = join(dir, 'dashboard-rules.yml')
      const rules = queries.map(q => `      - record: ${q.record}\n        expr: ${JSON.stringify(q.expr)}`)
      writeFileSync(file, `groups:\n  - name: wharf-dashboard\n    rules:\n${rules.join('\n')}\n`)
      const r = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8', timeout: 20_000 })
      assert.equal(r.status, 0, `promtool check rules: ${r.stdout}\n${r.stderr}`)
      assert.match(r.stdout, new RegExp(`SUCCESS: ${queries.length} rules found`))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  describe('against a Prometheus scraping a running Wharf', () => {
    let broker: TestBroker
    let prometheus: PrometheusNode
    let device: MqttClient | undefined
    let amqp: ChannelModel | undefined
    let flowing = true
    let traffic: Promise<void> = Promise.resolve()

    before(async () => {
      assert.ok(existsSync(PROMETHEUS), `${PROMETHEUS} is missing: install Debian's prometheus package (test/debian-packages.sh does)`)
      broker = await startTestBroker(c => {
        c.log.level = 'warn'
      })
      device = await mqttConnect(broker.mqttUrl, { clientId: 'dashboard-device' })
      await device.subscribeAsync('plant/#', { qos: 1 })
      amqp = await amqpConnect(broker.amqpUrl)
      const ch = await amqp.createConfirmChannel()
      await ch.assertQueue('dashboard-orders', { durable: true })
      const dev = device
      // Publishes (MQTT QoS 1 to its own subscription, AMQP persistent with confirms) for as long as
      // the queries run: rates, histograms and usage counters all move.
      traffic = (async () => {
        for (let i = 0; flowing; i++) {
          await dev.publishAsync('plant/line1/temp', `reading ${i}`, { qos: 1 })
          ch.sendToQueue('dashboard-orders', Buffer.from(`order ${i}`), { persistent: true })
          await ch.waitForConfirms()
          await new Promise(resolve => setTimeout(resolve, 20))
        }
      })()
      prometheus = await startPrometheus(new URL(broker.adminUrl).host)
      // rate() needs two samples in its window; a few more make it robust to a late scrape.
      await eventually(
        'Prometheus has scraped Wharf 4 times',
        async () => {
          const r = await prometheus.query('count_over_time(up{job="wharf"}[1m]) >= 4 and up{job="wharf"} == 1')
          return r.status === 'success' && (r.data?.result.length ?? 0) === 1
        },
        60_000
      )
    })

    after(async () => {
      flowing = false
      await traffic.catch(() => {})
      await prometheus?.stop()
      await end(device)
      await closeQuietly(amqp)
      await broker?.close()
    })

    test('every query evaluates, and every panel draws something', async () => {
      const drawn = new Set<string>()
      for (const q of queries) {
        const r = await prometheus.query(q.expr)
        assert.equal(r.status, 'success', `${q.panel}: ${q.expr}: ${r.error ?? ''}`)
        if ((r.data?.result.length ?? 0) > 0) drawn.add(q.panel)
      }
      assert.deepEqual(
        dashboard.panels.map(p => p.title).filter(t => !drawn.has(t)),
        [],
        'panels with no series'
      )
    })

    test('every metric selector matches series Wharf exported, and every `by` label is on them', async () => {
      for (const q of queries) {
        for (const selector of selectors(q.expr)) {
          const r = await prometheus.query(`count(${selector})`)
          assert.equal(r.status, 'success', `${q.panel}: count(${selector}): ${r.error ?? ''}`)
          assert.equal(r.data?.result.length, 1, `${q.panel}: ${selector} matches no series that Wharf exports`)
        }
        const first = selectors(q.expr)[0] as string
        for (const by of q.expr.matchAll(/by \(([^)]*)\)/g)) {
          for (const label of (by[1] as string).split(',').map(s => s.trim())) {
            const r = await prometheus.query(`count by (${label}) (${first})`)
            const values = (r.data?.result ?? []).map(s => s.metric[label] ?? '')
            assert.ok(
              values.some(v => v !== ''),
              `${q.panel}: by (${label}) on ${first}: no series has that label (${JSON.stringify(r.data?.result ?? r.error)})`
            )
          }
        }
      }
    })

    test('the vhost variable lists the vhosts', async () => {
      const vhost = dashboard.templating.list.find(v => v.name === 'vhost')
      assert.equal(vhost?.definition, 'label_values(wharf_queues, vhost)')
      const r = await prometheus.query('count by (vhost) (wharf_queues)')
      assert.ok(
        r.data?.result.some(s => s.metric.vhost === '/'),
        JSON.stringify(r.data?.result)
      )
    })
  })
})
