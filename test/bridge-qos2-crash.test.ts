// Issue 13, at QoS 2 to an MQTT remote: the edge (a child process) SIGKILLed while the remote holds its
// PUBLISHes between PUBREC and PUBREL (a proxy drops the PUBRECs, so the edge never sends the
// PUBRELs). The remote, a Wharf, routed each at its PUBLISH and keeps its packet id until PUBREL
// [MQTT-4.3.3-10]. Before, the restarted edge sent them again under new ids: the remote routed them a
// second time, and the old ids stayed taken for the session's life, so a later message that drew one
// was taken for a resend and not delivered, lost. Now each goes again under its original id with DUP
// [MQTT-4.4.0-1] (the id its queue entry's seq names): the remote answers PUBREC without routing it
// again, and the exchange ends with PUBREL and PUBCOMP. Every message arrives once, in order.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestBroker } from './support/test-broker.ts'
import { startBrokerProcess, type BrokerProcess } from './support/broker-process.ts'
import { startPubrecDroppingProxy } from './support/pubrec-dropping-proxy.ts'
import { mqttInbox } from './support/bridge-inboxes.ts'
import { checkArrivals } from './support/bridge-checks.ts'
import { bridgeTo, publishNumbered } from './support/bridge-scenarios.ts'
import { adminFetch } from './support/admin-http.ts'
import { connect, end } from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'
import type { BridgeStatus } from '../adapters/bridge/bridge-status.ts'

const HELD = 5

async function status(edge: BrokerProcess): Promise<BridgeStatus | null> {
  const res = await adminFetch(`http://127.0.0.1:${edge.ports.admin}/api/bridges/cloud`)
  return res.status === 200 ? ((await res.json()) as BridgeStatus) : null
}

async function waitForBridge(edge: BrokerProcess, what: string, check: (s: BridgeStatus) => boolean): Promise<BridgeStatus> {
  let last: BridgeStatus | null = null
  await eventually(
    `bridge: ${what} (last: ${JSON.stringify(last)})`,
    async () => {
      last = await status(edge)
      return last !== null && check(last)
    },
    15_000
  )
  return last as unknown as BridgeStatus
}

test('SIGKILL of the edge with QoS 2 exchanges open at a Wharf remote: resent under their original ids with DUP, each message once, none lost', {
  timeout: 90_000
}, async t => {
  const cloud = await startTestBroker(c => {
    c.log.level = 'warn'
  })
  t.after(() => cloud.close())
  const inbox = await mqttInbox(cloud.mqttUrl, 'up/#', 'qos2-crash-inbox', 5)
  t.after(() => inbox.close())
  const proxy = await startPubrecDroppingProxy(Number(new URL(cloud.mqttUrl).port))
  t.after(() => proxy.close())
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bridge-qos2-crash-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const bridge = bridgeTo(`mqtt://127.0.0.1:${proxy.port}`, { in: { topics: [], localPrefix: '', remotePrefix: '' } })
  const mqttConfig = { ...bridge.mqtt, qos: 2, clientId: 'edge-qos2-crash', cleanSession: false, sessionExpirySeconds: 3600, protocolVersion: 5 }
  const configFile = join(dir, 'wharf.json')
  writeFileSync(configFile, JSON.stringify({ bridges: [{ ...bridge, mqtt: mqttConfig }] }))
  const dataDir = join(dir, 'data')
  const start = async (): Promise<BrokerProcess> => {
    const edge = await startBrokerProcess(dataDir, {}, ['--config', configFile])
    t.after(() => edge.kill())
    return edge
  }

  let edge = await start()
  await waitForBridge(edge, 'connected', s => s.state === 'connected')
  const pub1 = await connect(`mqtt://127.0.0.1:${edge.ports.mqtt}`, { clientId: 'qos2-crash-pub-1', protocolVersion: 5 })
  proxy.dropPubrecs(true)
  await publishNumbered(pub1, HELD)
  await eventually(`${HELD} PUBRECs dropped (${proxy.dropped.length})`, () => proxy.dropped.length >= HELD)
  // The remote routed them at their PUBLISH.
  await eventually(`${HELD} at the remote subscriber (${inbox.bodies().join(',')})`, () => inbox.messages.length >= HELD)
  const held = [...proxy.dropped]
  const sentBefore = proxy.publishes.length
  assert.equal(proxy.pubrels.length, 0, 'no PUBREL before the kill')
  await edge.kill()
  pub1.end(true)
  proxy.dropPubrecs(false)

  edge = await start()
  await waitForBridge(edge, 'connected, the held messages confirmed', s => s.state === 'connected' && s.backlog.messages === 0 && s.confirmed >= HELD)
  const resent = proxy.publishes.slice(sentBefore, sentBefore + HELD)
  assert.deepEqual(
    resent,
    held.map(packetId => ({ packetId, dup: true })),
    'each held message resent under its original packet id, with DUP'
  )
  assert.deepEqual(
    held.map(id => proxy.pubcomps.get(id)),
    held.map(() => 0),
    'each exchange completed at the remote (PUBCOMP 0x00)'
  )

  // More messages after the restart: none is taken for a resend of an old id.
  const pub2 = await connect(`mqtt://127.0.0.1:${edge.ports.mqtt}`, { clientId: 'qos2-crash-pub-2', protocolVersion: 5 })
  try {
    await publishNumbered(pub2, 20, 'up/seq', HELD)
    await waitForBridge(edge, 'all confirmed', s => s.backlog.messages === 0 && s.confirmed >= HELD + 20)
  } finally {
    await end(pub2)
  }
  // A marker published at the remote after everything: what the remote routed before it has arrived.
  const marker = await connect(cloud.mqttUrl, { clientId: 'qos2-crash-marker', protocolVersion: 5 })
  try {
    await marker.publishAsync('up/marker', String(HELD + 20), { qos: 1 })
  } finally {
    await end(marker)
  }
  await eventually(`the marker at the remote subscriber (${inbox.bodies().join(',')})`, () => inbox.bodies().includes(String(HELD + 20)))
  const report = checkArrivals(
    inbox.messages,
    Array.from({ length: HELD + 21 }, (_, i) => i),
    'after the crash'
  )
  assert.equal(report.duplicates, 0, `each message once at the remote (${inbox.bodies().join(',')})`)
  assert.equal(inbox.messages.length, HELD + 21)
  await edge.terminate()
})
