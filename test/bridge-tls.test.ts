// Issue 13: bridges over TLS to a Wharf whose listeners require client certificates (amqps://,
// mqtts:// and wss://, each with tls.caFile, a client certificate and its key, and serverName), and
// a bridge that has no client certificate: refused, in state error, nothing lost. A bridge whose
// tls.caFile cannot be read was shown backing-off, as if the remote were away; it is in state error
// naming the file.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { collector, connect, end } from './support/mqtt-helpers.ts'
import { makeTestPki, type TestPki } from './support/test-pki.ts'
import { bridgeTo, startEdge, waitForBridge } from './support/bridge-scenarios.ts'
import type { BridgeConfig } from '../edge-config/config-types.ts'

let pki: TestPki
let cloud: TestBroker
let edge: TestBroker

before(async () => {
  pki = makeTestPki()
  const files = { certFile: pki.server.cert, keyFile: pki.server.key, caFile: pki.caFile }
  cloud = await startTestBroker(c => {
    c.log.level = 'info'
    c.mqtt.tls = { ...c.mqtt.tls, port: 0, ...files }
    c.mqtt.ws.tls = { ...c.mqtt.ws.tls, port: 0, ...files }
    c.amqp.tls = { ...c.amqp.tls, port: 0, ...files }
  })
  const client = pki.client('edge-1')
  const tls = { caFile: pki.caFile, certFile: client.cert, keyFile: client.key, serverName: 'localhost', rejectUnauthorized: true }
  const ports = cloud.node.ports
  const bridge = (name: string, url: string, extra: Partial<BridgeConfig> = {}): BridgeConfig =>
    bridgeTo(url, {
      name,
      tls,
      out: { topics: [`tls/${name}/#`], localPrefix: '', remotePrefix: '' },
      in: { topics: [], localPrefix: '', remotePrefix: '' },
      ...extra
    })
  edge = await startEdge([
    bridge('amqps', `amqps://guest:guest@localhost:${ports.amqpTls as number}`),
    bridge('mqtts', `mqtts://localhost:${ports.mqttTls as number}`),
    bridge('wss', `wss://localhost:${ports.wsTls as number}/mqtt`),
    bridge('nocert', `mqtts://localhost:${ports.mqttTls as number}`, { tls: { ...tls, certFile: null, keyFile: null } }),
    bridge('nocafile', `amqps://guest:guest@localhost:${ports.amqpTls as number}`, { tls: { ...tls, caFile: `${pki.caFile}.missing` } })
  ])
})

after(async () => {
  await edge?.close()
  await cloud?.close()
  pki?.remove()
})

for (const name of ['amqps', 'mqtts', 'wss']) {
  test(`over ${name}:// with a client certificate, messages go up`, { timeout: 30_000 }, async () => {
    await waitForBridge(edge, 'connected', s => s.state === 'connected', 10_000, name)
    const sub = await connect(cloud.mqttUrl, { clientId: `tls-sub-${name}`, protocolVersion: 5 })
    const got = collector(sub)
    await sub.subscribeAsync(`tls/${name}/#`, { qos: 1 })
    const pub = await connect(edge.mqttUrl, { clientId: `tls-pub-${name}`, protocolVersion: 5 })
    for (let i = 0; i < 10; i++) await pub.publishAsync(`tls/${name}/x`, String(i), { qos: 1 })
    const messages = await got.waitFor(10, 10_000)
    assert.deepEqual(
      messages.map(m => m.payload),
      Array.from({ length: 10 }, (_, i) => String(i))
    )
    await end(sub, pub)
  })
}

test('without a client certificate the remote refuses the bridge; its messages wait in its queue', { timeout: 30_000 }, async () => {
  const pub = await connect(edge.mqttUrl, { clientId: 'tls-pub-nocert', protocolVersion: 5 })
  await pub.publishAsync('tls/nocert/x', 'kept', { qos: 1 })
  const s = await waitForBridge(edge, 'failed at least twice', s => s.reconnects >= 2 && s.lastError !== null, 15_000, 'nocert')
  assert.notEqual(s.state, 'connected')
  assert.equal(s.backlog.messages, 1)
  await end(pub)
})

test('a tls.caFile that cannot be read: state error naming the file, its messages kept', { timeout: 30_000 }, async () => {
  const pub = await connect(edge.mqttUrl, { clientId: 'tls-pub-nocafile', protocolVersion: 5 })
  await pub.publishAsync('tls/nocafile/x', 'kept', { qos: 1 })
  const s = await waitForBridge(edge, 'in error', s => s.state === 'error' && s.backlog.messages === 1, 15_000, 'nocafile')
  assert.match(s.lastError ?? '', /^connect: tls: read tls\.caFile .*\.missing: ENOENT/)
  await end(pub)
})
