// Issue 13, loops: a path that is not a Wharf but keeps the loop marks carries a message from the
// remote back into the edge, which would send it up again for ever (the remote, Debian's Mosquitto,
// tells no node id, so no bridge on the way knows it has seen the message). Here the path is a relay
// client, as a third-party bridge or shovel is: subscribed at Mosquitto over MQTT 5, it publishes
// what it gets into the edge with its User Properties. bridges[].hopsMax stops the round: the message
// goes up hopsMax times, then lands in the dead-letter queue with the reason, counted.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { GetMessage } from 'amqplib'
import { connect as amqpConnect, channel, closeQuietly } from './support/amqp-helpers.ts'
import { collector, connect, end, settled } from './support/mqtt-helpers.ts'
import { eventually, holdsFor } from './support/wait.ts'
import { bridgeStatus, bridgeTo, startEdge, waitForBridge } from './support/bridge-scenarios.ts'
import { mosquittoUnavailable, startMosquitto } from './support/mosquitto.ts'
import { VIA_HEADER } from '../adapters/bridge/loop-marks.ts'
import { REFUSAL_HEADER } from '../adapters/bridge/dead-letters.ts'

const HOPS_MAX = 3

test('a loop through a relay that is not a Wharf stops after hopsMax uplinks, the message dead-lettered', {
  skip: mosquittoUnavailable(),
  timeout: 60_000
}, async t => {
  const mosquitto = await startMosquitto()
  t.after(() => mosquitto.stop()) // registered at each start: one that fails, or a connect below, leaves nothing running
  const edge = await startEdge([
    bridgeTo(mosquitto.url, {
      out: { topics: ['loop/#'], localPrefix: '', remotePrefix: '' },
      in: { topics: [], localPrefix: '', remotePrefix: '' },
      hopsMax: HOPS_MAX
    })
  ])
  t.after(() => edge.close())
  const into = await connect(edge.mqttUrl, { clientId: 'relay-in', protocolVersion: 5 })
  const relay = await connect(mosquitto.url, { clientId: 'relay-out', protocolVersion: 5 })
  const local = await connect(edge.mqttUrl, { clientId: 'local-sub', protocolVersion: 5 })
  try {
    await waitForBridge(edge, 'connected', s => s.state === 'connected')
    const atRemote = collector(relay)
    // The relay: everything on loop/# at Mosquitto goes back into the edge, User Properties and all.
    const relayed: Array<Promise<unknown>> = []
    relay.on('message', (topic, payload, packet) => {
      // Only loop/#: settled() below sends itself a marker, which is not relayed. (An empty User
      // Properties object would make mqtt-packet write nothing, and its publish never be acked.)
      if (!topic.startsWith('loop/')) return
      const userProperties = packet.properties?.userProperties
      relayed.push(into.publishAsync(topic, payload, { qos: 1, ...(userProperties === undefined ? {} : { properties: { userProperties } }) }))
    })
    await relay.subscribeAsync('loop/#', { qos: 1 })
    const onEdge = collector(local)
    await local.subscribeAsync('loop/#', { qos: 1 })

    const pub = await connect(edge.mqttUrl, { clientId: 'loop-pub', protocolVersion: 5 })
    await pub.publishAsync('loop/a', 'round', { qos: 1 })
    await end(pub)

    const s = await waitForBridge(edge, 'the loop stopped', s => s.deadLettered === 1 && s.backlog.messages === 0)
    await holdsFor(
      'nothing more goes up',
      async () => {
        const now = await bridgeStatus(edge)
        return now.forwarded === HOPS_MAX && now.deadLettered === 1
      },
      1000
    )
    assert.equal(s.forwarded, HOPS_MAX, `went up ${HOPS_MAX} times`)
    assert.equal(s.loopsSkipped, 0, 'no mark of a Wharf remote stopped it: the remote is Mosquitto')

    // At Mosquitto: one copy per uplink, each with one more hop in its via list (all of them this edge).
    await atRemote.waitFor(HOPS_MAX)
    await settled(relay)
    await Promise.all(relayed) // each copy the relay brought back was acknowledged by the edge
    const vias = atRemote.messages.map(m => String((m.properties?.userProperties as Record<string, unknown> | undefined)?.[VIA_HEADER] ?? ''))
    assert.equal(vias.length, HOPS_MAX)
    assert.deepEqual(
      vias.map(v => v.split(',').length),
      [1, 2, 3]
    )
    assert.equal(new Set(vias.flatMap(v => v.split(','))).size, 1, 'every hop is this edge')
    // On the edge: the publish and each copy the relay brought back.
    await eventually('the original and the relayed copies on the edge', () => onEdge.messages.length === HOPS_MAX + 1)
    assert.ok(onEdge.messages.every(m => m.payload === 'round'))

    // The stopped copy is in the dead-letter queue, with the reason.
    const conn = await amqpConnect(edge.amqpUrl)
    try {
      const ch = await channel(conn)
      let dead: GetMessage | false = false
      await eventually('the dead-lettered copy', async () => {
        dead = await ch.get('bridge-dead/cloud', { noAck: true })
        return dead !== false
      })
      const m = dead as unknown as GetMessage
      assert.equal(m.content.toString(), 'round')
      const reason = String(m.properties.headers?.[REFUSAL_HEADER])
      assert.match(reason, /went up through 3 Wharf bridges already/)
      assert.match(reason, /hopsMax is 3/)
      assert.equal(await ch.get('bridge-dead/cloud', { noAck: true }), false, 'one message dead-lettered')
    } finally {
      await closeQuietly(conn)
    }
  } finally {
    await end(into, relay, local)
  }
})
