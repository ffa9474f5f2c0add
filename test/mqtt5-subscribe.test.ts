// MQTT 5 SUBSCRIBE end to end, real clients over real sockets: the subscription options (No Local,
// Retain As Published, Retain Handling), Subscription Identifiers, overlapping subscriptions,
// shared subscriptions (one member each, give-back, QoS 2 kept with its member, no retained, an
// AMQP consumer competing), the SUBACK / UNSUBACK reason codes, and $SYS.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IConnackPacket, IPublishPacket, ISubackPacket, IUnsubackPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'
import * as a from './support/amqp-helpers.ts'
import { eventually, holdsFor } from './support/wait.ts'
import { hashPassword } from '../core/auth/password-hash.ts'
import { RawMqttClient } from './support/raw-mqtt5.ts'
import { adminFetch } from './support/admin-http.ts'

const V5 = { protocolVersion: 5 } as const

describe('MQTT 5 subscribe', { timeout: 120_000 }, () => {
  let broker: TestBroker
  let port: number
  const raws: RawMqttClient[] = []
  const raw = async (
    clientId: string,
    connect: Record<string, unknown> = {},
    version: 4 | 5 = 5
  ): Promise<{ client: RawMqttClient; connack: IConnackPacket }> => {
    const opened = await RawMqttClient.connect(port, { clientId, ...connect }, version)
    raws.push(opened.client)
    return opened
  }
  const subscribeRaw = async (
    client: RawMqttClient,
    subscriptions: Array<{ topic: string; qos: 0 | 1 | 2; nl?: boolean; rap?: boolean; rh?: number }>,
    subscriptionIdentifier?: number
  ): Promise<number[]> => {
    const n = client.of('suback').length
    const messageId = n + 1
    client.send({ cmd: 'subscribe', messageId, subscriptions, ...(subscriptionIdentifier === undefined ? {} : { properties: { subscriptionIdentifier } }) })
    const acks = (await client.waitFor('suback', n + 1)) as ISubackPacket[]
    const ack = acks[n] as ISubackPacket
    assert.equal(ack.messageId, messageId)
    return ack.granted as number[]
  }
  const publishes = (client: RawMqttClient): IPublishPacket[] => client.of('publish') as IPublishPacket[]
  const idsOf = (p: IPublishPacket): number[] => {
    const ids = p.properties?.subscriptionIdentifier as number | number[] | undefined
    // Two matching subscriptions may share an identifier: sent once or twice, it names the same.
    return ids === undefined ? [] : Array.isArray(ids) ? [...new Set(ids)].sort((x, y) => x - y) : [ids]
  }

  before(async () => {
    broker = await startTestBroker(config => {
      config.mqtt.sysIntervalSeconds = 1
      config.auth.users = [{ username: 'viewer', passwordHash: hashPassword('pw'), subscribe: ['public/#'] }]
    })
    port = broker.node.ports.mqtt
  })
  after(async () => {
    await Promise.all(raws.map(r => r.destroy()))
    await broker.close()
  })

  test("No Local: the own publish is not received, the others' are; an overlapping subscription without it still delivers [MQTT-3.8.3-3]", {
    timeout: 15_000
  }, async () => {
    const me = await connect(broker.mqttUrl, { ...V5, clientId: 'nl-me' })
    const other = await connect(broker.mqttUrl, { ...V5, clientId: 'nl-other' })
    try {
      const mine = collector(me)
      const theirs = collector(other)
      await me.subscribeAsync('nl/only/#', { qos: 1, nl: true })
      await other.subscribeAsync('nl/only/#', { qos: 1, nl: true })
      await me.publishAsync('nl/only/x', 'from me', { qos: 1 })
      await other.publishAsync('nl/only/x', 'from other', { qos: 1 })
      await theirs.waitFor(1)
      await mine.waitFor(1)
      await holdsFor('nobody gets its own publish', () => mine.messages.length === 1 && theirs.messages.length === 1, 300)
      assert.deepEqual(
        mine.messages.map(m => m.payload),
        ['from other']
      )
      assert.deepEqual(
        theirs.messages.map(m => m.payload),
        ['from me']
      )
      // A second, overlapping subscription without No Local delivers the own message (once).
      await me.subscribeAsync('nl/+/x', { qos: 0 })
      await me.publishAsync('nl/only/x', 'mine again', { qos: 1 })
      await mine.waitFor(2)
      await theirs.waitFor(2)
      await holdsFor('delivered once, through the subscription without No Local', () => mine.messages.length === 2, 200)
      assert.deepEqual([mine.messages[1]?.payload, mine.messages[1]?.qos], ['mine again', 0])
    } finally {
      await end(me, other)
    }
  })

  test('Retain As Published 0 clears RETAIN on live deliveries, 1 keeps it; retained copies at subscribe carry RETAIN 1 either way [MQTT-3.3.1-12] [MQTT-3.3.1-13]', {
    timeout: 15_000
  }, async () => {
    const pub = await connect(broker.mqttUrl, V5)
    const rap0 = await connect(broker.mqttUrl, V5)
    const rap1 = await connect(broker.mqttUrl, V5)
    try {
      await pub.publishAsync('rap/before', 'stored', { qos: 1, retain: true })
      const in0 = collector(rap0)
      const in1 = collector(rap1)
      await rap0.subscribeAsync('rap/#', { qos: 1, rap: false })
      await rap1.subscribeAsync('rap/#', { qos: 1, rap: true })
      await in0.waitFor(1)
      await in1.waitFor(1)
      await pub.publishAsync('rap/live', 'live retained', { qos: 1, retain: true })
      await pub.publishAsync('rap/live', 'live plain', { qos: 1, retain: false })
      await in0.waitFor(3)
      await in1.waitFor(3)
      assert.deepEqual(
        in0.messages.map(m => [m.payload, m.retain]),
        [
          ['stored', true],
          ['live retained', false],
          ['live plain', false]
        ]
      )
      assert.deepEqual(
        in1.messages.map(m => [m.payload, m.retain]),
        [
          ['stored', true],
          ['live retained', true],
          ['live plain', false]
        ]
      )
      await pub.publishAsync('rap/before', '', { qos: 1, retain: true })
      await pub.publishAsync('rap/live', '', { qos: 1, retain: true })
    } finally {
      await end(pub, rap0, rap1)
    }
  })

  test('Retain Handling 0 sends retained messages at every SUBSCRIBE, 1 only for a new subscription, 2 never [MQTT-3.3.1-9] [MQTT-3.3.1-10] [MQTT-3.3.1-11] [MQTT-3.8.4-4]', {
    timeout: 15_000
  }, async () => {
    const pub = await connect(broker.mqttUrl, V5)
    await pub.publishAsync('rh/a', 'retained a', { qos: 1, retain: true })
    await pub.publishAsync('rh/b', 'retained b', { qos: 1, retain: true })
    try {
      const counts: Record<number, number[]> = {}
      for (const rh of [0, 1, 2]) {
        const { client } = await raw(`rh-${rh}`)
        await subscribeRaw(client, [{ topic: 'rh/+', qos: 1, rh }])
        if (rh < 2) await client.waitFor('publish', 2)
        const first = publishes(client).length
        await subscribeRaw(client, [{ topic: 'rh/+', qos: 1, rh }]) // the same subscription again
        if (rh === 0) await client.waitFor('publish', 4)
        // A publish after both SUBACKs comes after any retained copy: it shows none is still on its way.
        await pub.publishAsync('rh/a', `live ${rh}`, { qos: 1 })
        await client.until('the live publish', () => publishes(client).some(p => String(p.payload) === `live ${rh}`))
        counts[rh] = [first, publishes(client).length - 1]
        for (const p of publishes(client)) assert.equal(p.retain, String(p.payload).startsWith('retained'), `RETAIN of ${String(p.payload)}`)
      }
      assert.deepEqual(counts, { 0: [2, 4], 1: [2, 2], 2: [0, 0] })
    } finally {
      await pub.publishAsync('rh/a', '', { qos: 1, retain: true })
      await pub.publishAsync('rh/b', '', { qos: 1, retain: true })
      await end(pub)
    }
  })

  test('Subscription Identifiers: every matching one in one PUBLISH, at the highest QoS of the matching subscriptions [MQTT-3.3.4-2] [MQTT-3.3.4-3] [MQTT-3.3.4-4]', {
    timeout: 15_000
  }, async () => {
    const { client } = await raw('sid-sub')
    assert.deepEqual(await subscribeRaw(client, [{ topic: 'sid/#', qos: 0 }], 1), [0])
    assert.deepEqual(
      await subscribeRaw(
        client,
        [
          { topic: 'sid/+/x', qos: 1 },
          { topic: 'sid/a/+', qos: 2 }
        ],
        77
      ),
      [1, 2]
    )
    assert.deepEqual(await subscribeRaw(client, [{ topic: 'sid/a/x', qos: 1 }]), [1])
    const pub = await connect(broker.mqttUrl, V5)
    try {
      await pub.publishAsync('sid/a/x', 'all four', { qos: 2 })
      await pub.publishAsync('sid/b/x', 'two', { qos: 2 })
      await pub.publishAsync('sid/c', 'one', { qos: 1 })
      await pub.publishAsync('sid/a/x', 'q1 message', { qos: 1 })
      await client.waitFor('publish', 4)
      await holdsFor('one PUBLISH per message', () => publishes(client).length === 4, 300)
      assert.deepEqual(
        publishes(client).map(p => [String(p.payload), p.qos, idsOf(p)]),
        [
          ['all four', 2, [1, 77]], // sid/#, sid/+/x and sid/a/+ have identifiers; sid/a/x has none
          ['two', 1, [1, 77]], // sid/# (QoS 0) and sid/+/x (QoS 1)
          ['one', 0, [1]],
          ['q1 message', 1, [1, 77]]
        ]
      )
      // The same filter subscribed again replaces the subscription and its identifier [MQTT-3.8.4-3].
      await subscribeRaw(client, [{ topic: 'sid/#', qos: 0 }], 5)
      await pub.publishAsync('sid/c', 'replaced', { qos: 1 })
      await client.waitFor('publish', 5)
      assert.deepEqual(idsOf(publishes(client)[4] as IPublishPacket), [5])
    } finally {
      await end(pub)
    }
  })

  test('shared subscription: each message goes to exactly one member', { timeout: 20_000 }, async () => {
    const members = await Promise.all([0, 1, 2].map(i => connect(broker.mqttUrl, { ...V5, clientId: `share-m${i}` })))
    const inboxes = members.map(m => collector(m))
    const pub = await connect(broker.mqttUrl, V5)
    try {
      for (const m of members) await m.subscribeAsync('$share/workers/jobs/+', { qos: 1 })
      for (let i = 0; i < 30; i++) await pub.publishAsync(`jobs/${i % 3}`, `job ${i}`, { qos: 1 })
      await eventually('30 deliveries in all', () => inboxes.reduce((n, c) => n + c.messages.length, 0) >= 30)
      await holdsFor('no more than 30', () => inboxes.reduce((n, c) => n + c.messages.length, 0) === 30, 300)
      const all = inboxes.flatMap(c => c.messages.map(m => m.payload)).sort()
      assert.deepEqual(all, Array.from({ length: 30 }, (_, i) => `job ${i}`).sort(), 'each once')
      for (const [i, c] of inboxes.entries()) assert.ok(c.messages.length > 0, `member ${i} got a share`)
      for (const c of inboxes) for (const m of c.messages) assert.equal(m.topic.startsWith('jobs/'), true, 'the topic is the published one, not the share')
    } finally {
      await end(pub, ...members)
    }
  })

  for (const kind of ['clean', 'persistent'] as const) {
    test(`shared subscription: a ${kind} member that leaves gives back the QoS 1 messages it had not acknowledged; another member gets them with DUP 0 [MQTT-3.3.1-3]`, {
      timeout: 20_000
    }, async () => {
      const group = `$share/giveback-${kind}/gb-${kind}/#`
      const connectProps = kind === 'clean' ? {} : { clean: false, properties: { sessionExpiryInterval: 300 } }
      const { client: silent } = await raw(`gb-silent-${kind}`, connectProps)
      await subscribeRaw(silent, [{ topic: group, qos: 1 }])
      const pub = await connect(broker.mqttUrl, V5)
      try {
        for (let i = 0; i < 5; i++) await pub.publishAsync(`gb-${kind}/t`, `m${i}`, { qos: 1 })
        await silent.waitFor('publish', 5) // never acknowledged
        const other = await connect(broker.mqttUrl, V5)
        const got = collector(other)
        try {
          await other.subscribeAsync(group, { qos: 1 })
          await holdsFor('nothing for the second member while the first holds all', () => got.messages.length === 0, 200)
          await silent.destroy()
          await got.waitFor(5)
          await holdsFor('each once', () => got.messages.length === 5, 200)
          assert.deepEqual(got.messages.map(m => m.payload).sort(), ['m0', 'm1', 'm2', 'm3', 'm4'])
          // A first delivery to this member, not a retransmission to it: DUP 0 [MQTT-3.3.1-3].
          assert.deepEqual(
            got.messages.map(m => m.dup),
            [false, false, false, false, false]
          )
          if (kind === 'persistent') {
            // The returning member does not get them again.
            const { client: back, connack } = await raw(`gb-silent-${kind}`, connectProps)
            assert.equal(connack.sessionPresent, true)
            await pub.publishAsync(`gb-${kind}/t`, 'after', { qos: 1 })
            await eventually('the next message is delivered', () => got.messages.length + publishes(back).length === 6)
            assert.deepEqual(
              publishes(back)
                .map(p => String(p.payload))
                .filter(p => p !== 'after'),
              []
            )
          }
        } finally {
          await end(other)
        }
      } finally {
        await end(pub)
      }
    })
  }

  test('shared subscription, QoS 2: a delivery in flight stays with its member across a reconnect, PUBLISH and PUBREL resent, never given to another member [MQTT-4.8.2-4] [MQTT-4.4.0-1]', {
    timeout: 20_000
  }, async () => {
    const group = '$share/exactly/once/#'
    const props = { clean: false, properties: { sessionExpiryInterval: 300 } }
    const { client: first } = await raw('q2-member', props)
    await subscribeRaw(first, [{ topic: group, qos: 2 }])
    const pub = await connect(broker.mqttUrl, V5)
    const other = await connect(broker.mqttUrl, V5)
    const otherGot = collector(other)
    try {
      await pub.publishAsync('once/a', 'recd', { qos: 2 })
      await pub.publishAsync('once/b', 'sent', { qos: 2 })
      const [p1, p2] = (await first.waitFor('publish', 2)) as IPublishPacket[]
      first.send({ cmd: 'pubrec', messageId: p1?.messageId as number }) // the first reaches the PUBREL stage
      await first.waitFor('pubrel', 1)
      await other.subscribeAsync(group, { qos: 2 })
      await first.destroy()
      const { client: back, connack } = await raw('q2-member', props)
      assert.equal(connack.sessionPresent, true)
      await back.waitFor('pubrel', 1)
      await back.waitFor('publish', 1)
      assert.equal((back.of('pubrel')[0] as { messageId: number }).messageId, p1?.messageId)
      const again = publishes(back)[0] as IPublishPacket
      assert.deepEqual([again.messageId, String(again.payload), again.dup], [p2?.messageId, 'sent', true])
      back.send({ cmd: 'pubcomp', messageId: p1?.messageId as number })
      back.send({ cmd: 'pubrec', messageId: p2?.messageId as number })
      await back.waitFor('pubrel', 2)
      back.send({ cmd: 'pubcomp', messageId: p2?.messageId as number })
      await holdsFor('the other member never gets them', () => otherGot.messages.length === 0, 300)
      await eventually('the group queue is empty', async () => {
        const q = (await (await adminFetch(`${broker.adminUrl}/api/queues/%2F/${encodeURIComponent('mqtt-share/exactly/once/#')}`)).json()) as {
          messages: number
          messages_unacknowledged?: number
        }
        return q.messages === 0 && (q.messages_unacknowledged ?? 0) === 0
      })
    } finally {
      await end(pub, other)
    }
  })

  test("shared subscription, QoS 2: when the member's session ends with a delivery in flight, the message is not sent to another member [MQTT-4.8.2-5]", {
    timeout: 20_000
  }, async () => {
    const group = '$share/ending/ends/#'
    const { client: member } = await raw('q2-ending') // clean: the session ends with the connection
    await subscribeRaw(member, [{ topic: group, qos: 2 }])
    const pub = await connect(broker.mqttUrl, V5)
    const other = await connect(broker.mqttUrl, V5)
    const otherGot = collector(other)
    try {
      await pub.publishAsync('ends/x', 'in flight', { qos: 2 })
      await member.waitFor('publish', 1) // no PUBREC
      await other.subscribeAsync(group, { qos: 2 })
      await member.destroy()
      await eventually('the group queue is empty', async () => {
        const q = (await (await adminFetch(`${broker.adminUrl}/api/queues/%2F/${encodeURIComponent('mqtt-share/ending/ends/#')}`)).json()) as {
          messages: number
          messages_unacknowledged?: number
        }
        return q.messages === 0 && (q.messages_unacknowledged ?? 0) === 0
      })
      await pub.publishAsync('ends/x', 'next', { qos: 2 })
      await otherGot.waitFor(1)
      await holdsFor('only the next message reaches the other member', () => otherGot.messages.length === 1, 300)
      assert.equal(otherGot.messages[0]?.payload, 'next')
    } finally {
      await end(pub, other)
    }
  })

  test('shared subscription: UNSUBSCRIBE lets the deliveries already started complete; none goes to another member [MQTT-3.10.4-3]', {
    timeout: 20_000
  }, async () => {
    const group = '$share/leaving/leave/#'
    const { client: leaver } = await raw('leaver')
    await subscribeRaw(leaver, [{ topic: group, qos: 1 }])
    const pub = await connect(broker.mqttUrl, V5)
    const other = await connect(broker.mqttUrl, V5)
    const otherGot = collector(other)
    try {
      for (let i = 0; i < 3; i++) await pub.publishAsync('leave/x', `l${i}`, { qos: 1 })
      const started = (await leaver.waitFor('publish', 3)) as IPublishPacket[]
      await other.subscribeAsync(group, { qos: 1 })
      leaver.send({ cmd: 'unsubscribe', messageId: 50, unsubscriptions: [group] })
      await leaver.waitFor('unsuback', 1)
      for (const p of started) leaver.send({ cmd: 'puback', messageId: p.messageId as number })
      await pub.publishAsync('leave/x', 'after', { qos: 1 })
      await otherGot.waitFor(1)
      await holdsFor('the other member gets only what came after', () => otherGot.messages.length === 1, 300)
      assert.equal(otherGot.messages[0]?.payload, 'after')
      assert.equal(publishes(leaver).length, 3)
      await eventually('the group queue is empty', async () => {
        const q = (await (await adminFetch(`${broker.adminUrl}/api/queues/%2F/${encodeURIComponent('mqtt-share/leaving/leave/#')}`)).json()) as {
          messages: number
          messages_unacknowledged?: number
        }
        return q.messages === 0 && (q.messages_unacknowledged ?? 0) === 0
      })
    } finally {
      await end(pub, other)
    }
  })

  test('shared subscription: retained messages are not sent to it; a plain subscription gets them', { timeout: 15_000 }, async () => {
    const pub = await connect(broker.mqttUrl, V5)
    const member = await connect(broker.mqttUrl, V5)
    const plain = await connect(broker.mqttUrl, V5)
    try {
      await pub.publishAsync('shr/kept', 'retained', { qos: 1, retain: true })
      const memberIn = collector(member)
      const plainIn = collector(plain)
      await member.subscribeAsync('$share/g/shr/#', { qos: 1 })
      await plain.subscribeAsync('shr/#', { qos: 1 })
      await plainIn.waitFor(1)
      await pub.publishAsync('shr/live', 'live', { qos: 1, retain: true })
      await memberIn.waitFor(1)
      await holdsFor('the member gets only the live message', () => memberIn.messages.length === 1, 300)
      assert.deepEqual(
        memberIn.messages.map(m => [m.payload, m.retain]),
        [['live', false]]
      )
      await pub.publishAsync('shr/kept', '', { qos: 1, retain: true })
      await pub.publishAsync('shr/live', '', { qos: 1, retain: true })
    } finally {
      await end(pub, member, plain)
    }
  })

  test('shared subscription: an AMQP consumer of mqtt-share/<group>/<filter> competes with the MQTT members', { timeout: 20_000 }, async () => {
    const member = await connect(broker.mqttUrl, V5)
    const memberIn = collector(member)
    await member.subscribeAsync('$share/mixed/plant/+/temp', { qos: 1 })
    const amqp = await a.connect(broker.amqpUrl)
    const pub = await connect(broker.mqttUrl, V5)
    try {
      const ch = await a.channel(amqp)
      await ch.prefetch(5)
      const inbox = await a.consume(ch, 'mqtt-share/mixed/plant/+/temp', {}, m => ch.ack(m))
      for (let i = 0; i < 40; i++) await pub.publishAsync(`plant/${i}/temp`, `t${i}`, { qos: 1 })
      await eventually('40 deliveries in all', () => inbox.messages.length + memberIn.messages.length >= 40)
      await holdsFor('each once', () => inbox.messages.length + memberIn.messages.length === 40, 300)
      const all = [...inbox.bodies(), ...memberIn.messages.map(m => m.payload)].sort()
      assert.deepEqual(all, Array.from({ length: 40 }, (_, i) => `t${i}`).sort())
      assert.ok(inbox.messages.length > 0 && memberIn.messages.length > 0, `both compete: AMQP ${inbox.messages.length}, MQTT ${memberIn.messages.length}`)
      assert.equal(inbox.messages[0]?.fields.routingKey.endsWith('.temp'), true)
    } finally {
      await end(pub, member)
      await a.closeQuietly(amqp)
    }
  })

  test('SUBACK reason codes: 0x87 for a filter the ACL denies, 0x8F for an invalid filter, granted QoS otherwise, in SUBSCRIBE order (5.0) [MQTT-3.9.3-1]', {
    timeout: 15_000
  }, async () => {
    const { client } = await raw('suback-5', { username: 'viewer', password: Buffer.from('pw') })
    const granted = await subscribeRaw(client, [
      { topic: 'public/news', qos: 2 },
      { topic: 'private/x', qos: 1 },
      { topic: 'public/#/bad', qos: 1 },
      { topic: '$share/g', qos: 1 },
      { topic: '$share/g+/public/x', qos: 1 },
      { topic: 'public/+', qos: 1 }
    ])
    assert.deepEqual(granted, [2, 0x87, 0x8f, 0x8f, 0x8f, 1])
    assert.equal(client.isClosed, false)
  })

  test('SUBACK 0x80 for a denied or invalid filter (3.1.1)', { timeout: 15_000 }, async () => {
    const { client } = await raw('suback-4', { username: 'viewer', password: Buffer.from('pw') }, 4)
    const granted = await subscribeRaw(client, [
      { topic: 'private/x', qos: 1 },
      { topic: 'public/#/bad', qos: 1 },
      { topic: 'public/ok', qos: 1 }
    ])
    assert.deepEqual(granted, [0x80, 0x80, 1])
  })

  test('UNSUBACK: 0x00 subscribed, 0x11 not subscribed, 0x8F invalid filter, in UNSUBSCRIBE order [MQTT-3.11.3-1]', { timeout: 15_000 }, async () => {
    const { client } = await raw('unsub-5')
    await subscribeRaw(client, [
      { topic: 'un/a', qos: 1 },
      { topic: '$share/ug/un/b', qos: 1 }
    ])
    client.send({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: ['un/never', 'un/a', 'un/#/bad', '$share/ug', '$share/ug/un/b', 'un/a'] })
    const [ack] = (await client.waitFor('unsuback', 1)) as IUnsubackPacket[]
    assert.equal(ack?.messageId, 9)
    assert.deepEqual(ack?.granted ?? (ack as unknown as { reasonCode: number[] }).reasonCode, [0x11, 0x00, 0x8f, 0x8f, 0x00, 0x11])
    assert.equal(client.isClosed, false)
    const pub = await connect(broker.mqttUrl, V5)
    try {
      await pub.publishAsync('un/a', 'after unsubscribe', { qos: 1 })
      await pub.publishAsync('un/b', 'after unsubscribe', { qos: 1 })
      await holdsFor('nothing delivered after UNSUBACK', () => publishes(client).length === 0, 300)
    } finally {
      await end(pub)
    }
  })

  test('$SYS: $SYS/broker/uptime arrives on $SYS/#; filters starting with a wildcard never match $ topics [MQTT-4.7.2-1]', { timeout: 15_000 }, async () => {
    const sys = await connect(broker.mqttUrl, V5)
    const all = await connect(broker.mqttUrl, V5)
    const plus = await connect(broker.mqttUrl, { protocolVersion: 4 })
    try {
      const sysIn = collector(sys)
      const allIn = collector(all)
      const plusIn = collector(plus)
      await all.subscribeAsync('#', { qos: 0 })
      await plus.subscribeAsync('+/broker/uptime', { qos: 0 })
      await sys.subscribeAsync('$SYS/#', { qos: 0 })
      const uptimes = (): number => sysIn.messages.filter(m => m.topic === '$SYS/broker/uptime').length
      await eventually('the retained uptime, then a live one', () => uptimes() >= 2, 5000)
      assert.match(sysIn.messages.find(m => m.topic === '$SYS/broker/uptime')?.payload ?? '', /^\d+ seconds$/)
      assert.ok(sysIn.messages.some(m => m.topic === '$SYS/broker/version'))
      assert.ok(sysIn.messages.every(m => m.topic.startsWith('$SYS/')))
      assert.deepEqual(
        allIn.messages.filter(m => m.topic.startsWith('$')),
        [],
        "'#' gets no $SYS topic"
      )
      assert.deepEqual(plusIn.messages, [], "'+/broker/uptime' does not match $SYS/broker/uptime")
    } finally {
      await end(sys, all, plus)
    }
  })
})
