// Listeners (TLS for MQTT and WebSocket) and the admin HTTP endpoints.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'

describe('TLS listeners and admin HTTP', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let certDir: string
  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'wharf-tls-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(certDir, 'key.pem'),
        '-out',
        join(certDir, 'cert.pem')
      ],
      { stdio: 'ignore' }
    )
    broker = await startTestBroker(c => {
      c.mqtt.tls = { ...c.mqtt.tls, port: 0, certFile: join(certDir, 'cert.pem'), keyFile: join(certDir, 'key.pem') }
      c.mqtt.ws.tls = { ...c.mqtt.ws.tls, port: 0, certFile: join(certDir, 'cert.pem'), keyFile: join(certDir, 'key.pem') }
    })
  })
  after(async () => {
    await broker.close()
    rmSync(certDir, { recursive: true, force: true })
  })

  test('MQTT over TLS and over secure WebSocket carry messages', async () => {
    const ca = readFileSync(join(certDir, 'cert.pem'))
    const tls = await connect(`mqtts://localhost:${broker.node.ports.mqttTls}`, { clientId: 'tls-1', ca, rejectUnauthorized: true })
    const wss = await connect(`wss://localhost:${broker.node.ports.wsTls}/mqtt`, { clientId: 'wss-1', ca, rejectUnauthorized: true })
    try {
      const got = collector(wss)
      await wss.subscribeAsync('secure/#', { qos: 1 })
      await tls.publishAsync('secure/x', 'over tls', { qos: 1 })
      assert.equal((await got.waitFor(1))[0]?.payload, 'over tls')
    } finally {
      await end(tls, wss)
    }
  })

  test('WebSocket only on the configured path', async () => {
    await assert.rejects(connect(`ws://127.0.0.1:${broker.node.ports.ws}/other`, { clientId: 'ws-wrong' }, 3000))
    const res = await fetch(`http://127.0.0.1:${broker.node.ports.ws}/mqtt`)
    assert.equal(res.status, 426)
  })

  test('/healthz, /readyz, /metrics and /api/overview', async () => {
    assert.equal((await fetch(`${broker.adminUrl}/healthz`)).status, 200)
    const ready = await fetch(`${broker.adminUrl}/readyz`)
    assert.equal(ready.status, 200)
    assert.deepEqual(await ready.json(), { status: 'ready' })
    const c = await connect(broker.mqttUrl, { clientId: 'seen-by-admin' })
    try {
      const metrics = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
      assert.match(metrics, /# TYPE wharf_mqtt_clients_connected gauge/)
      assert.match(metrics, /wharf_mqtt_clients_connected 1/)
      const overview = (await (await adminFetch(`${broker.adminUrl}/api/overview`)).json()) as { product_name: string }
      assert.equal(overview.product_name, 'Wharf')
      const conns = (await (await adminFetch(`${broker.adminUrl}/api/connections`)).json()) as Array<{ client_id: string }>
      assert.deepEqual(
        conns.map(x => x.client_id),
        ['seen-by-admin']
      )
    } finally {
      await end(c)
    }
    assert.equal((await adminFetch(`${broker.adminUrl}/nope`)).status, 404)
  })

  test('/readyz is 503 once draining', async () => {
    const other = await startTestBroker()
    const closing = other.node.close()
    // readiness flips before anything else is torn down
    const res = await fetch(`${other.adminUrl}/readyz`).catch(() => null)
    assert.ok(res === null || res.status === 503)
    await closing
    await other.close()
  })
})
