// A QoS 2 PUBLISH sent again before its PUBREL is a resend of a message the broker owns already: it gets
// PUBREC again and is not routed again [MQTT-4.3.3-10], whatever a check would answer a new message
// now. It was answered after the checks: a resend while the publisher's permission was revoked got
// PUBREC 0x87, so the client ended an exchange whose message had been delivered, and the id, still
// held as received, made the client's next message under it [MQTT-4.3.3-9] a "resend": PUBREC 0x00,
// never routed. Raw clients over real sockets; the permission changes through the access store.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IPubcompPacket, IPublishPacket, IPubrecPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { holdsFor } from './support/wait.ts'
import { RawMqttClient } from './support/raw-mqtt5.ts'
import { hashPassword } from '../core/auth/password-hash.ts'

const TOPIC = 'resend/reading'

describe('QoS 2 resend before PUBREL', { timeout: 60_000 }, () => {
  let broker: TestBroker
  const raws: RawMqttClient[] = []
  before(async () => {
    broker = await startTestBroker(c => {
      c.auth.users = [{ username: 'dev', passwordHash: hashPassword('pw') }]
      c.auth.permissions = [{ user: 'dev', vhost: '/', configure: '.*', write: '.*', read: '.*' }]
      c.auth.topicPermissions = [{ user: 'dev', vhost: '/', exchange: 'amq.topic', write: '.*', read: '.*' }]
    })
  })
  after(async () => {
    await Promise.all(raws.map(r => r.destroy()))
    await broker.close()
  })
  const writeTo = async (pattern: string): Promise<void> => {
    await broker.node.access.store.setTopicPermission('dev', '/', { exchange: 'amq.topic', write: pattern, read: '.*' })
  }

  test('a resend after the publisher lost its permission still gets PUBREC 0x00, and the message is delivered once [MQTT-4.3.3-10] [MQTT-4.3.3-9]', async () => {
    const port = broker.node.ports.mqtt
    const { client: sub } = await RawMqttClient.connect(port, { clientId: 'resend-sub' })
    raws.push(sub)
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: TOPIC, qos: 0 }] } as never)
    await sub.waitFor('suback', 1)
    const { client: pub } = await RawMqttClient.connect(port, { clientId: 'resend-pub', username: 'dev', password: Buffer.from('pw') })
    raws.push(pub)

    pub.send({ cmd: 'publish', topic: TOPIC, payload: 'first', qos: 2, messageId: 7 } as never)
    const [first] = (await pub.waitFor('pubrec', 1)) as IPubrecPacket[]
    assert.equal(first?.reasonCode, 0)
    await writeTo('^nothing$')
    pub.send({ cmd: 'publish', topic: TOPIC, payload: 'first', qos: 2, messageId: 7, dup: true } as never)
    const again = ((await pub.waitFor('pubrec', 2)) as IPubrecPacket[])[1]
    assert.equal(again?.reasonCode, 0, 'the resend of a message taken already is acknowledged as taken, not refused')
    await writeTo('.*')
    pub.send({ cmd: 'pubrel', messageId: 7 } as never)
    const [comp] = (await pub.waitFor('pubcomp', 1)) as IPubcompPacket[]
    assert.equal(comp?.reasonCode, 0)

    // After PUBCOMP the id serves a new message, which is routed [MQTT-4.3.3-12].
    pub.send({ cmd: 'publish', topic: TOPIC, payload: 'second', qos: 2, messageId: 7 } as never)
    await pub.waitFor('pubrec', 3)
    pub.send({ cmd: 'pubrel', messageId: 7 } as never)
    await pub.waitFor('pubcomp', 2)
    await sub.waitFor('publish', 2)
    await holdsFor('no third copy', () => sub.of('publish').length === 2, 300)
    assert.deepEqual(
      (sub.of('publish') as IPublishPacket[]).map(p => p.payload.toString()),
      ['first', 'second']
    )
  })
})
