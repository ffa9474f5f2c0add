// Review: mqtt.serverKeepAliveSeconds is MQTT 5's Server Keep Alive, which a 5.0 client is told in
// CONNACK [MQTT-3.2.2-21]. A 3.1.1 or 3.1 client cannot be told: it keeps the Keep Alive it sent
// [MQTT-3.1.2-24 (3.1.1)], 0 included (no keep alive at all, §3.1.2.10 of 3.1.1).
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { IDisconnectPacket } from 'mqtt-packet'
import { rawPeersBroker } from './support/raw-peers-broker.ts'
import { holdsFor } from './support/wait.ts'
import { rawConnect5 } from './support/raw-mqtt.ts'

describe('Server Keep Alive and 3.1.1 clients (review)', { timeout: 60_000 }, () => {
  const raw = rawPeersBroker(c => {
    c.mqtt.serverKeepAliveSeconds = 1
  })
  const peers = raw.peers

  test('a silent 3.1.1 client with Keep Alive 0, and one with Keep Alive 60, stay past 1.5 x the Server Keep Alive [MQTT-3.1.2-24 (3.1.1)]', async () => {
    const off = await rawConnect5(raw.broker.node.ports.mqtt, { protocolVersion: 4, clientId: 'ka-311-off', keepalive: 0 })
    const long = await rawConnect5(raw.broker.node.ports.mqtt, { protocolVersion: 4, clientId: 'ka-311-long', keepalive: 60 })
    const v31 = await rawConnect5(raw.broker.node.ports.mqtt, { protocolVersion: 3, clientId: 'ka-31-off', keepalive: 0 })
    peers.push(off, long, v31)
    for (const p of [off, long, v31]) assert.equal(p.connack.returnCode, 0)
    await holdsFor('the 3.1.1 and 3.1 clients stay connected', () => !off.isClosed() && !long.isClosed() && !v31.isClosed(), 2500)
  })

  test('a silent 3.1.1 client is still closed after 1.5 x its own Keep Alive [MQTT-3.1.2-24 (3.1.1)]', async () => {
    const short = await rawConnect5(raw.broker.node.ports.mqtt, { protocolVersion: 4, clientId: 'ka-311-short', keepalive: 1 })
    peers.push(short)
    await short.waitClosed(5000)
  })

  test('an MQTT 5 client is told the Server Keep Alive and held to it [MQTT-3.2.2-21] [MQTT-3.1.2-22]', async () => {
    const v5 = await rawConnect5(raw.broker.node.ports.mqtt, { clientId: 'ka-5', keepalive: 0 })
    peers.push(v5)
    assert.equal(v5.connack.properties?.serverKeepAlive, 1)
    const d = await v5.waitFor<IDisconnectPacket>('DISCONNECT for keep alive', p => p.cmd === 'disconnect', 5000)
    assert.equal(d.reasonCode, 0x8d)
  })
})
