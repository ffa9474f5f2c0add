// A SUBACK, UNSUBACK or AUTH still over the client's Maximum Packet Size without Reason String and User
// Properties (many reason codes, a SCRAM server-first message) is not sent [MQTT-3.1.2-24], as EMQX discards it; the subscriptions
// it answers stand, the connection goes on, and the skip is counted. Wharf (like Mosquitto 2.0.11) sent
// a 35-byte SUBACK to a client allowing 20. Raw clients over real sockets.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { IPublishPacket, ISubackPacket } from 'mqtt-packet'
import { rawPeersBroker } from './support/raw-peers-broker.ts'
import { rawConnect5, rawOpen, type RawPeer } from './support/raw-mqtt.ts'
import { eventually, holdsFor } from './support/wait.ts'
import { adminFetch } from './support/admin-http.ts'
import { ScramClient } from './support/scram-client.ts'
import { formatScramCredentials, newScramCredentials } from '../core/auth/scram-credentials.ts'
import { hashPassword } from '../core/auth/password-hash.ts'

describe("SUBACK and UNSUBACK within the client's Maximum Packet Size", { timeout: 60_000 }, () => {
  const raw = rawPeersBroker(config => {
    config.auth.users = [{ username: 'alice', passwordHash: hashPassword('x'), scramSha256: formatScramCredentials(newScramCredentials('wonderland')) }]
  })
  const peers = raw.peers
  const open = async (clientId: string, maximumPacketSize: number): Promise<RawPeer> => {
    const peer = await rawConnect5(raw.broker.node.ports.mqtt, { clientId, properties: { maximumPacketSize } })
    peers.push(peer)
    return peer
  }
  const filters = Array.from({ length: 30 }, (_, i) => `many/${i}`)
  const oversizeReplies = async (): Promise<number> => {
    const text = await (await adminFetch(`${raw.broker.adminUrl}/metrics`)).text()
    return Number(/^wharf_mqtt_oversize_replies_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0)
  }

  test('30 reason codes to a client allowing 20 bytes: no SUBACK, no UNSUBACK, the subscriptions work [MQTT-3.1.2-24]', async () => {
    const before = await oversizeReplies()
    const small = await open('acks-20', 20)
    small.send({ cmd: 'subscribe', messageId: 1, subscriptions: filters.map(topic => ({ topic, qos: 1 })) } as never)
    small.send({ cmd: 'pingreq' } as never)
    await small.waitFor('PINGRESP after the SUBSCRIBE', p => p.cmd === 'pingresp')
    assert.equal(small.packets.filter(p => p.cmd === 'suback').length, 0, 'a 35-byte SUBACK is not sent')
    assert.ok(small.bytes() <= 20 * small.packets.length, 'nothing over 20 bytes arrived')

    const publisher = await open('acks-publisher', 268_435_455)
    publisher.send({ cmd: 'publish', topic: 'many/7', payload: Buffer.from('x'), qos: 0 } as never)
    const got = await small.waitFor<IPublishPacket>('the PUBLISH to a filter of the SUBSCRIBE', p => p.cmd === 'publish')
    assert.equal(got.topic, 'many/7')

    small.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: filters } as never)
    small.send({ cmd: 'pingreq' } as never)
    await eventually('a second PINGRESP', () => small.packets.filter(p => p.cmd === 'pingresp').length === 2)
    assert.equal(small.packets.filter(p => p.cmd === 'unsuback').length, 0, 'a 35-byte UNSUBACK is not sent')
    publisher.send({ cmd: 'publish', topic: 'many/8', payload: Buffer.from('y'), qos: 0 } as never)
    publisher.send({ cmd: 'pingreq' } as never)
    await publisher.waitFor('PINGRESP of the publisher', p => p.cmd === 'pingresp')
    await holdsFor('no PUBLISH after the UNSUBSCRIBE', () => small.packets.filter(p => p.cmd === 'publish').length === 1, 300)
    assert.equal(small.isClosed(), false)
    await eventually('both counted', async () => (await oversizeReplies()) - before === 2)
    assert.ok(
      raw.broker.logs.some(l => l.msg === "suback not sent: larger than the client's Maximum Packet Size even without Reason String and User Properties"),
      'logged'
    )
  })

  test('a client allowing 40 bytes gets its 35-byte SUBACK', async () => {
    const roomy = await open('acks-40', 40)
    roomy.send({ cmd: 'subscribe', messageId: 1, subscriptions: filters.map(topic => ({ topic, qos: 1 })) } as never)
    const suback = await roomy.waitFor<ISubackPacket>('SUBACK', p => p.cmd === 'suback')
    assert.equal(suback.granted.length, 30)
  })

  test('an AUTH (SCRAM server-first) over the 40 bytes the client allows is not sent [MQTT-3.1.2-24]', async () => {
    const before = await oversizeReplies()
    const scram = new ScramClient({ username: 'alice', password: 'wonderland' })
    const peer = await rawOpen(raw.broker.node.ports.mqtt)
    peers.push(peer)
    peer.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clean: true,
      clientId: 'acks-auth-40',
      keepalive: 30,
      properties: { maximumPacketSize: 40, authenticationMethod: 'SCRAM-SHA-256', authenticationData: scram.clientFirst() }
    } as never)
    await eventually('counted', async () => (await oversizeReplies()) - before === 1)
    assert.equal(peer.bytes(), 0, 'no AUTH of more than 40 bytes arrived')
  })
})
