// A QoS 1 delivery Wharf sends again at a session's return (DUP) carries the Message Expiry Interval
// left at that send, as every PUBLISH from the server must [MQTT-3.3.2-6]: Wharf sent the value of the
// first send again. One whose interval passed in between is still sent (its delivery had started
// [MQTT-3.3.2-5]), with 0. Raw clients over real sockets.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { IPublishPacket } from 'mqtt-packet'
import { rawPeersBroker } from './support/raw-peers-broker.ts'
import { rawConnect5, type RawPeer } from './support/raw-mqtt.ts'
import { eventually } from './support/wait.ts'

describe('Message Expiry Interval on a resend', { timeout: 60_000 }, () => {
  const raw = rawPeersBroker()
  const peers = raw.peers
  const open = async (clientId: string, clean: boolean): Promise<Awaited<ReturnType<typeof rawConnect5>>> => {
    const peer = await rawConnect5(raw.broker.node.ports.mqtt, { clientId, clean, properties: { sessionExpiryInterval: 300 } })
    peers.push(peer)
    return peer
  }
  const publishes = (peer: RawPeer): IPublishPacket[] => peer.packets.filter((p): p is IPublishPacket => p.cmd === 'publish')

  test('the resend carries what is left, 0 once passed, and still goes [MQTT-3.3.2-6] [MQTT-3.3.2-5]', async () => {
    const first = await open('expiry-resend', true)
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'exp/t', qos: 1 }] } as never)
    await first.waitFor('SUBACK', p => p.cmd === 'suback')
    const publisher = await open('expiry-publisher', true)
    publisher.send({ cmd: 'publish', topic: 'exp/t', payload: Buffer.from('long'), qos: 1, messageId: 1, properties: { messageExpiryInterval: 60 } } as never)
    publisher.send({ cmd: 'publish', topic: 'exp/t', payload: Buffer.from('short'), qos: 1, messageId: 2, properties: { messageExpiryInterval: 1 } } as never)
    await eventually('both delivered, unacknowledged', () => publishes(first).length === 2)
    const sentAtMs = Date.now()
    const [long, short] = publishes(first)
    assert.equal(long?.properties?.messageExpiryInterval, 60)
    assert.equal(short?.properties?.messageExpiryInterval, 1)
    first.destroy()
    await first.waitClosed()
    // the short one's interval passes while the client is away
    await eventually('2.2 s passed', () => Date.now() - sentAtMs >= 2200, 5000)

    const back = await open('expiry-resend', false)
    assert.equal(back.connack.sessionPresent, true)
    await eventually('both sent again', () => publishes(back).length === 2)
    const [longAgain, shortAgain] = publishes(back)
    assert.equal(longAgain?.dup, true)
    assert.equal(longAgain?.messageId, long?.messageId, 'same packet id [MQTT-4.4.0-1]')
    assert.equal(longAgain?.payload.toString(), 'long')
    const left = longAgain?.properties?.messageExpiryInterval ?? -1
    assert.ok(left >= 55 && left <= 58, `the long one carries what is left (58 after 2.2 s), not 60: got ${left}`)
    assert.equal(shortAgain?.dup, true)
    assert.equal(shortAgain?.payload.toString(), 'short')
    assert.equal(shortAgain?.properties?.messageExpiryInterval, 0, 'passed meanwhile: still sent, with 0')
    back.send({ cmd: 'puback', messageId: longAgain?.messageId } as never)
    back.send({ cmd: 'puback', messageId: shortAgain?.messageId } as never)
  })
})
