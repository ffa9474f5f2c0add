// MQTT 3.1 has no Session Present flag: the first byte of its CONNACK's variable header is reserved
// (3.1 §3.2, "Reserved values. Not used."), and Mosquitto 2.0.11 sends 0 there. Wharf set bit 0 for a
// 3.1 client that resumed its session, as for 3.1.1 [MQTT-3.2.2-2]. Raw clients over real sockets,
// reading the CONNACK's bytes as they came; the resumed 3.1 session still has its queued message.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Packet } from 'mqtt-packet'
import { rawPeersBroker } from './support/raw-peers-broker.ts'
import { rawConnect5, rawOpen, type RawPeer } from './support/raw-mqtt.ts'

describe('CONNACK Session Present by protocol level', { timeout: 60_000 }, () => {
  const raw = rawPeersBroker()
  const peers = raw.peers

  /** A CONNECT with clean=false; resolves with the CONNACK's bytes as received. */
  const reconnect = async (version: 3 | 4, clientId: string): Promise<{ peer: RawPeer; connackBytes: Buffer }> => {
    const peer = await rawOpen(raw.broker.node.ports.mqtt, version)
    peers.push(peer)
    const chunks: Buffer[] = []
    peer.socket.on('data', d => chunks.push(d))
    peer.send({ cmd: 'connect', protocolId: version === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: version, clean: false, clientId, keepalive: 30 } as Packet)
    await peer.waitFor('CONNACK', p => p.cmd === 'connack')
    return { peer, connackBytes: Buffer.concat(chunks).subarray(0, 4) }
  }

  /** A persistent session subscribed to topic at QoS 1, left with one message queued while offline. */
  const sessionWithQueuedMessage = async (version: 3 | 4, clientId: string, topic: string): Promise<void> => {
    const { peer } = await reconnect(version, clientId)
    peer.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 1 }] } as Packet)
    await peer.waitFor('SUBACK', p => p.cmd === 'suback')
    peer.send({ cmd: 'disconnect' } as Packet)
    await peer.waitClosed()
    const publisher = await rawConnect5(raw.broker.node.ports.mqtt, { protocolVersion: 4, clientId: `${clientId}-pub` })
    peers.push(publisher)
    publisher.send({ cmd: 'publish', topic, payload: Buffer.from('queued'), qos: 1, messageId: 7, retain: false, dup: false } as Packet)
    await publisher.waitFor('PUBACK', p => p.cmd === 'puback')
  }

  test('a 3.1 client resuming its session gets the reserved CONNACK byte 0, and its queued message', async () => {
    await sessionWithQueuedMessage(3, 'v31-resume', 'sp31/a')
    const { peer, connackBytes } = await reconnect(3, 'v31-resume')
    assert.deepEqual([...connackBytes], [0x20, 0x02, 0x00, 0x00], 'CONNACK 20 02 00 00: reserved byte 0, return code 0')
    const m = await peer.waitFor<Packet & { payload: Buffer }>('the queued PUBLISH', p => p.cmd === 'publish')
    assert.equal(m.payload.toString(), 'queued', 'the session was resumed all the same')
  })

  test('a 3.1.1 client resuming its session gets Session Present 1 [MQTT-3.2.2-2]', async () => {
    await sessionWithQueuedMessage(4, 'v311-resume', 'sp311/a')
    const { peer, connackBytes } = await reconnect(4, 'v311-resume')
    assert.deepEqual([...connackBytes], [0x20, 0x02, 0x01, 0x00], 'CONNACK 20 02 01 00')
    await peer.waitFor('the queued PUBLISH', p => p.cmd === 'publish')
  })
})
