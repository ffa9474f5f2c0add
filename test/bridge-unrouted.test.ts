// A remote that confirms a message and routes it to no one (no queue bound, no subscriber) drops it,
// and the bridge, which deletes what the remote confirmed, said nothing: a cloud whose binding is
// missing lost every message while /api/bridges showed them all confirmed. Now the AMQP uplink
// publishes mandatory (basic.return comes back before the confirm) and an MQTT 5 PUBACK/PUBREC 0x10
// No matching subscribers is read: such messages are counted (unroutedAtRemote,
// wharf_bridge_unrouted_total) and logged once per interval. A retained one is kept there, not counted.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { collector, connect, end } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'
import { startTestBroker } from './support/test-broker.ts'
import { bridgeTo, startEdge, waitForBridge } from './support/bridge-scenarios.ts'

test('messages the remote routes to no one are counted and logged, over AMQP and MQTT 5', { timeout: 60_000 }, async t => {
  const cloud = await startTestBroker()
  t.after(() => cloud.close())
  const out = (prefix: string) => ({
    out: { topics: [`up/${prefix}/#`], localPrefix: '', remotePrefix: '' },
    in: { topics: [], localPrefix: '', remotePrefix: '' }
  })
  const edge = await startEdge([
    bridgeTo(cloud.amqpUrl, { name: 'amqp', logIntervalSeconds: 3600, ...out('a') }),
    bridgeTo(cloud.mqttUrl, { name: 'mqtt', logIntervalSeconds: 3600, ...out('m') })
  ])
  let sub: MqttClient | undefined
  let pub: MqttClient | undefined
  try {
    for (const name of ['amqp', 'mqtt']) await waitForBridge(edge, 'connected', s => s.state === 'connected', 10_000, name)
    sub = await connect(cloud.mqttUrl, { clientId: 'cloud-sub', protocolVersion: 5 })
    const got = collector(sub)
    await sub.subscribeAsync(['up/a/bound', 'up/m/bound'], { qos: 1 })
    pub = await connect(edge.mqttUrl, { clientId: 'edge-pub', protocolVersion: 5 })
    for (const prefix of ['a', 'm']) {
      await pub.publishAsync(`up/${prefix}/bound`, 'kept', { qos: 1 })
      await pub.publishAsync(`up/${prefix}/nobody`, 'dropped there', { qos: 1 })
      await pub.publishAsync(`up/${prefix}/nobody`, 'dropped there too', { qos: 1 })
      await pub.publishAsync(`up/${prefix}/status`, 'retained there', { qos: 1, retain: true })
    }
    const amqp = await waitForBridge(edge, 'all confirmed', s => s.confirmed === 4 && s.backlog.messages === 0, 10_000, 'amqp')
    const mqtt = await waitForBridge(edge, 'all confirmed', s => s.confirmed === 4 && s.backlog.messages === 0, 10_000, 'mqtt')
    // The retained one goes over AMQP with x-mqtt-retain, which a Wharf remote keeps as retained.
    assert.equal(amqp.unroutedAtRemote, 2)
    assert.equal(mqtt.unroutedAtRemote, 2)
    const bound = await got.waitFor(2, 10_000)
    assert.deepEqual(bound.map(m => m.topic).sort(), ['up/a/bound', 'up/m/bound'])
    const exposition = await (await adminFetch(`${edge.adminUrl}/metrics`)).text()
    assert.match(exposition, /^wharf_bridge_unrouted_total\{bridge="amqp"\} 2$/m)
    assert.match(exposition, /^wharf_bridge_unrouted_total\{bridge="mqtt"\} 2$/m)
    const warned = edge.logs.filter(l => String(l.msg).startsWith('bridge: the remote routed a message to no one'))
    assert.deepEqual(warned.map(l => [l.bridge, l.topic, l.reason]).sort(), [
      ['amqp', 'up/a/nobody', 'basic.return 312 NO_ROUTE'],
      ['mqtt', 'up/m/nobody', 'PUBACK 0x10 No matching subscribers']
    ])
  } finally {
    await end(sub, pub)
    await edge.close()
  }
})
