// MQTT 5 PUBLISH end to end, real clients over real sockets: message expiry, User Property order on
// the wire, Topic Aliases both ways, request/response, payload format and content type, the reason
// codes of the publish flows, the client's Maximum Packet Size and the client's Receive Maximum.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IConnackPacket, IDisconnectPacket, IPubackPacket, IPubcompPacket, IPublishPacket, IPubrecPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end } from './support/mqtt-helpers.ts'
import { eventually, holdsFor } from './support/wait.ts'
import { hashPassword } from '../core/auth/password-hash.ts'
import { RawMqttClient, decodePublish5, prop, publish5, userPropertiesOnWire } from './support/raw-mqtt5.ts'
import { adminFetch } from './support/admin-http.ts'

const V5 = { protocolVersion: 5 } as const

describe('MQTT 5 publish', { timeout: 120_000 }, () => {
  let broker: TestBroker
  let port: number
  const raws: RawMqttClient[] = []
  const startBroker = async (dataDir?: string): Promise<void> => {
    broker = await startTestBroker(config => {
      config.mqtt.topicAliasMaximum = 8
      config.auth.users = [{ username: 'dev', passwordHash: hashPassword('pw'), publish: ['devices/%c/#'] }]
    }, dataDir)
    port = broker.node.ports.mqtt
  }
  const raw = async (clientId: string, connect: Record<string, unknown> = {}): Promise<{ client: RawMqttClient; connack: IConnackPacket }> => {
    const opened = await RawMqttClient.connect(port, { clientId, ...connect })
    raws.push(opened.client)
    return opened
  }
  const subscribeRaw = async (client: RawMqttClient, filter: string, qos: 0 | 1 | 2, messageId = 1): Promise<void> => {
    const before = client.of('suback').length
    client.send({ cmd: 'subscribe', messageId, subscriptions: [{ topic: filter, qos }] })
    await client.waitFor('suback', before + 1)
  }
  const queueMessages = async (name: string): Promise<number> => {
    const res = await adminFetch(`${broker.adminUrl}/api/queues/%2F/${encodeURIComponent(name)}`)
    return ((await res.json()) as { messages: number }).messages
  }

  before(async () => {
    await startBroker()
  })
  after(async () => {
    await Promise.all(raws.map(r => r.destroy()))
    await broker.close()
  })

  test('an expired message is not delivered to a returning session; the rest carry the remaining interval [MQTT-3.3.2-5] [MQTT-3.3.2-6]', {
    timeout: 20_000
  }, async () => {
    const opts = { ...V5, clientId: 'expiry-sub', clean: false, properties: { sessionExpiryInterval: 300 } }
    const first = await connect(broker.mqttUrl, opts)
    await first.subscribeAsync('expiry/#', { qos: 1 })
    await end(first)
    const pub = await connect(broker.mqttUrl, V5)
    try {
      const publishedAt = Date.now()
      await pub.publishAsync('expiry/short', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } })
      await pub.publishAsync('expiry/long', 'long', { qos: 1, properties: { messageExpiryInterval: 60 } })
      await pub.publishAsync('expiry/none', 'none', { qos: 1 })
      await pub.publishAsync('expiry-kept/short', 'kept short', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } })
      await pub.publishAsync('expiry-kept/long', 'kept long', { qos: 1, retain: true, properties: { messageExpiryInterval: 60 } })
      const lastAckedAt = Date.now() // every message above was stored before this
      // The broker drops the expired copy from the offline session's queue by itself.
      await eventually('the 1 s message expired from the session queue', async () => (await queueMessages('mqtt-session/expiry-sub')) === 2, 5000)
      assert.ok(Date.now() - publishedAt >= 1000)
      // More than a second after the last publish, so a rewritten interval is at most 59 (real time, bounded).
      await eventually('over a second since the last publish', () => Date.now() - lastAckedAt >= 1100, 3000)
      const back = await connect(broker.mqttUrl, opts)
      const late = await connect(broker.mqttUrl, V5)
      try {
        const got = await collector(back).waitFor(2)
        await holdsFor('the expired message never comes', () => got.length === 2, 200)
        assert.deepEqual(
          got.map(m => m.payload),
          ['long', 'none']
        )
        const remaining = got[0]?.properties?.messageExpiryInterval as number
        assert.ok(remaining >= 50 && remaining <= 59, `remaining interval ${remaining} is 60 minus the time waited`)
        assert.equal(got[1]?.properties?.messageExpiryInterval, undefined, 'no expiry was set: none is sent')
        // Retained messages expire too; the one left carries what remains of its interval.
        const kept = collector(late)
        await late.subscribeAsync('expiry-kept/+', { qos: 1 })
        await kept.waitFor(1)
        await holdsFor('the expired retained message is not sent', () => kept.messages.length === 1, 200)
        assert.deepEqual(
          kept.messages.map(m => [m.payload, m.retain]),
          [['kept long', true]]
        )
        const keptRemaining = kept.messages[0]?.properties?.messageExpiryInterval as number
        assert.ok(keptRemaining >= 50 && keptRemaining <= 59, `retained remaining interval ${keptRemaining}`)
      } finally {
        await late.publishAsync('expiry-kept/long', '', { qos: 1, retain: true })
        await end(back, late)
      }
    } finally {
      await end(pub)
    }
  })

  test('User Properties keep their order on the wire, a repeated name (a=1, b=2, a=3) and numeric names included [MQTT-3.3.2-17] [MQTT-3.3.2-18]', {
    timeout: 15_000
  }, async () => {
    const { client: sub } = await raw('order-sub')
    await subscribeRaw(sub, 'order/#', 1)
    const { client: pub } = await raw('order-pub')
    const sets: Array<Array<[string, string]>> = [
      [
        ['a', '1'],
        ['b', '2'],
        ['a', '3']
      ],
      [
        ['z', 'last-first'],
        ['10', 'ten'],
        ['2', 'two'],
        ['b', 'bee']
      ],
      [
        ['x-mqtt-note', 'looks like ours'],
        ['content-type', 'not a property'],
        ['', 'empty name']
      ]
    ]
    for (const [i, set] of sets.entries()) {
      pub.sendRaw(publish5({ topic: `order/${i}`, payload: `m${i}`, qos: 1, packetId: i + 1, properties: set.map(([k, v]) => prop.user(k, v)) }))
    }
    await pub.waitFor('puback', sets.length)
    await sub.waitFor('publish', sets.length)
    const got = sub.rawOf('publish').map(p => decodePublish5(p.raw))
    assert.deepEqual(
      got.map(p => p.payload.toString()),
      ['m0', 'm1', 'm2']
    )
    for (const [i, set] of sets.entries()) {
      assert.deepEqual(userPropertiesOnWire((sub.rawOf('publish')[i] as { raw: Buffer }).raw), set, `publish ${i}: User Properties as sent, in order`)
    }
  })

  test('User Properties keep their order through a broker restart (an offline session, stored and read back) [MQTT-3.3.2-18]', {
    timeout: 30_000
  }, async () => {
    const { client: sub } = await raw('order-keeper', { clean: false, properties: { sessionExpiryInterval: 600 } })
    await subscribeRaw(sub, 'kept/#', 1)
    await sub.destroy()
    const { client: pub } = await raw('order-pub-2')
    const set: Array<[string, string]> = [
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
      ['7', 'seven']
    ]
    pub.sendRaw(publish5({ topic: 'kept/x', payload: 'stored', qos: 1, packetId: 9, properties: set.map(([k, v]) => prop.user(k, v)) }))
    await pub.waitFor('puback', 1)
    await pub.destroy()
    const dir = broker.dataDir
    await broker.stop()
    await startBroker(dir)
    const { client: back, connack } = await raw('order-keeper', { clean: false, properties: { sessionExpiryInterval: 600 } })
    assert.equal(connack.sessionPresent, true)
    await back.waitFor('publish', 1)
    const wire = (back.rawOf('publish')[0] as { raw: Buffer }).raw
    assert.equal(decodePublish5(wire).payload.toString(), 'stored')
    assert.deepEqual(userPropertiesOnWire(wire), set)
  })

  test('Topic Alias client -> server: set with a topic, then used with an empty topic [MQTT-3.3.2-12]', { timeout: 15_000 }, async () => {
    const sub = await connect(broker.mqttUrl, V5)
    const inbox = collector(sub)
    await sub.subscribeAsync('alias-in/#', { qos: 1 })
    const { client: pub, connack } = await raw('alias-pub')
    assert.equal(connack.properties?.topicAliasMaximum, 8)
    try {
      pub.sendRaw(publish5({ topic: 'alias-in/one', payload: 'set', qos: 1, packetId: 1, properties: [prop.u16(0x23, 8)] }))
      pub.sendRaw(publish5({ topic: '', payload: 'used', qos: 1, packetId: 2, properties: [prop.u16(0x23, 8)] }))
      pub.sendRaw(publish5({ topic: 'alias-in/two', payload: 'reset', qos: 1, packetId: 3, properties: [prop.u16(0x23, 8)] }))
      pub.sendRaw(publish5({ topic: '', payload: 'used again', qos: 1, packetId: 4, properties: [prop.u16(0x23, 8)] }))
      const acks = (await pub.waitFor('puback', 4)) as IPubackPacket[]
      assert.deepEqual(
        acks.map(a => a.reasonCode ?? 0),
        [0, 0, 0, 0]
      )
      const got = await inbox.waitFor(4)
      assert.deepEqual(
        got.map(m => [m.topic, m.payload]),
        [
          ['alias-in/one', 'set'],
          ['alias-in/one', 'used'],
          ['alias-in/two', 'reset'],
          ['alias-in/two', 'used again']
        ]
      )
      // mqtt.js, too, uses aliases when allowed (it sends the empty topic itself).
      const auto = await connect(broker.mqttUrl, { ...V5, autoUseTopicAlias: true })
      try {
        await auto.publishAsync('alias-in/auto', 'a1', { qos: 1 })
        await auto.publishAsync('alias-in/auto', 'a2', { qos: 1 })
        const all = await inbox.waitFor(6)
        assert.deepEqual(
          all.slice(4).map(m => [m.topic, m.payload]),
          [
            ['alias-in/auto', 'a1'],
            ['alias-in/auto', 'a2']
          ]
        )
      } finally {
        await end(auto)
      }
    } finally {
      await end(sub)
    }
  })

  // Topic Alias 0 and an alias above the maximum are in mqtt5-errors.test.ts.
  test('a Topic Alias that was never set, with an empty topic: DISCONNECT 0x82, nothing routed', { timeout: 15_000 }, async () => {
    const { client } = await raw('alias-unset')
    client.sendRaw(publish5({ topic: '', payload: 'x', qos: 1, packetId: 1, properties: [prop.u16(0x23, 3)] }))
    const [d] = (await client.waitFor('disconnect', 1)) as IDisconnectPacket[]
    assert.equal(d?.reasonCode, 0x82)
    await client.closed
    assert.equal(client.of('puback').length, 0)
  })

  test('Topic Alias server -> client: used when the client allows it, never above its maximum, not carried to a new connection [MQTT-3.3.2-7] [MQTT-3.3.2-11]', {
    timeout: 15_000
  }, async () => {
    const pub = await connect(broker.mqttUrl, V5)
    try {
      const { client: two } = await raw('alias-out-2', { properties: { topicAliasMaximum: 2 } })
      const { client: none } = await raw('alias-out-0')
      await subscribeRaw(two, 'alias-out/#', 0)
      await subscribeRaw(none, 'alias-out/#', 0)
      const topics = ['alias-out/a', 'alias-out/a', 'alias-out/b', 'alias-out/c', 'alias-out/c', 'alias-out/b', 'alias-out/a']
      for (const t of topics) await pub.publishAsync(t, t, { qos: 0 })
      await two.waitFor('publish', topics.length)
      await none.waitFor('publish', topics.length)
      const seen = two.rawOf('publish').map(p => decodePublish5(p.raw))
      const aliasOf = (p: { properties: Array<[number, unknown]> }): number | undefined => p.properties.find(([id]) => id === 0x23)?.[1] as number | undefined
      assert.deepEqual(
        seen.map(p => [p.topic, aliasOf(p), p.payload.toString()]),
        [
          ['alias-out/a', 1, 'alias-out/a'], // set
          ['', 1, 'alias-out/a'], // used: empty topic + alias
          ['alias-out/b', 2, 'alias-out/b'],
          ['alias-out/c', undefined, 'alias-out/c'], // the client allows 2: no third alias
          ['alias-out/c', undefined, 'alias-out/c'],
          ['', 2, 'alias-out/b'],
          ['', 1, 'alias-out/a']
        ]
      )
      for (const p of none.rawOf('publish').map(r => decodePublish5(r.raw))) {
        assert.equal(aliasOf(p), undefined, 'no Topic Alias to a client that announced none')
        assert.notEqual(p.topic, '')
      }
      // A new connection starts without aliases.
      await two.destroy()
      const { client: again } = await raw('alias-out-2', { properties: { topicAliasMaximum: 2 } })
      await subscribeRaw(again, 'alias-out/#', 0)
      await pub.publishAsync('alias-out/a', 'fresh', { qos: 0 })
      await again.waitFor('publish', 1)
      const fresh = decodePublish5((again.rawOf('publish')[0] as { raw: Buffer }).raw)
      assert.deepEqual([fresh.topic, aliasOf(fresh)], ['alias-out/a', 1])
      // mqtt.js resolves the aliases it allowed back to topics.
      const js = await connect(broker.mqttUrl, { ...V5, properties: { topicAliasMaximum: 4 } })
      try {
        const inbox = collector(js)
        await js.subscribeAsync('alias-out/#', { qos: 1 })
        for (let i = 0; i < 3; i++) await pub.publishAsync('alias-out/js', `j${i}`, { qos: 1 })
        const got = await inbox.waitFor(3)
        assert.deepEqual(
          got.map(m => [m.topic, m.payload]),
          [
            ['alias-out/js', 'j0'],
            ['alias-out/js', 'j1'],
            ['alias-out/js', 'j2']
          ]
        )
      } finally {
        await end(js)
      }
    } finally {
      await end(pub)
    }
  })

  test('request/response: Response Topic and Correlation Data reach the responder unaltered, and the answer comes back [MQTT-3.3.2-15] [MQTT-3.3.2-16]', {
    timeout: 15_000
  }, async () => {
    const responder = await connect(broker.mqttUrl, V5)
    const requester = await connect(broker.mqttUrl, V5)
    try {
      const requests = collector(responder)
      const answers = collector(requester)
      await responder.subscribeAsync('svc/requests', { qos: 1 })
      await requester.subscribeAsync('svc/answers/+', { qos: 1 })
      const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41])
      const texts = [Buffer.from('req-1'), binary, Buffer.from('ünïcode ✓'), Buffer.alloc(300, 0x61)]
      for (const [i, correlationData] of texts.entries()) {
        await requester.publishAsync('svc/requests', `question ${i}`, { qos: 1, properties: { responseTopic: `svc/answers/v1.${i}`, correlationData } })
      }
      const got = await requests.waitFor(texts.length)
      for (const [i, m] of got.entries()) {
        assert.equal(m.properties?.responseTopic, `svc/answers/v1.${i}`)
        assert.deepEqual(m.properties?.correlationData, texts[i])
        await responder.publishAsync(m.properties?.responseTopic as string, `answer ${i}`, {
          qos: 1,
          properties: { correlationData: m.properties?.correlationData as Buffer }
        })
      }
      const back = await answers.waitFor(texts.length)
      assert.deepEqual(
        back.map(m => [m.topic, m.payload, (m.properties?.correlationData as Buffer | undefined)?.toString('hex')]),
        texts.map((c, i) => [`svc/answers/v1.${i}`, `answer ${i}`, c.toString('hex')])
      )
    } finally {
      await end(responder, requester)
    }
  })

  test('Payload Format Indicator 1 with a payload that is not UTF-8: PUBACK 0x99, nothing routed; valid UTF-8 goes with the indicator and the Content Type [MQTT-3.3.2-4] [MQTT-3.3.2-20]', {
    timeout: 15_000
  }, async () => {
    const sub = await connect(broker.mqttUrl, V5)
    const inbox = collector(sub)
    await sub.subscribeAsync('format/#', { qos: 1 })
    const { client: pub } = await raw('format-pub')
    try {
      pub.sendRaw(publish5({ topic: 'format/bad', payload: Buffer.from([0x68, 0xff, 0xfe]), qos: 1, packetId: 1, properties: [prop.byte(0x01, 1)] }))
      pub.sendRaw(publish5({ topic: 'format/surrogate', payload: Buffer.from([0xed, 0xa0, 0x80]), qos: 1, packetId: 2, properties: [prop.byte(0x01, 1)] }))
      pub.sendRaw(
        publish5({
          topic: 'format/text',
          payload: 'héllo ✓',
          qos: 1,
          packetId: 3,
          properties: [prop.byte(0x01, 1), prop.str(0x03, 'text/plain; charset=utf-8')]
        })
      )
      pub.sendRaw(
        publish5({
          topic: 'format/bytes',
          payload: Buffer.from([0xff, 0x00]),
          qos: 1,
          packetId: 4,
          properties: [prop.byte(0x01, 0), prop.str(0x03, 'application/octet-stream')]
        })
      )
      const acks = (await pub.waitFor('puback', 4)) as IPubackPacket[]
      assert.deepEqual(
        acks.map(a => [a.messageId, a.reasonCode ?? 0]),
        [
          [1, 0x99],
          [2, 0x99],
          [3, 0],
          [4, 0]
        ]
      )
      assert.match(String(acks[0]?.properties?.reasonString), /UTF-8/)
      const got = await inbox.waitFor(2)
      await holdsFor('the refused payloads are not routed', () => got.length === 2, 200)
      assert.deepEqual(
        got.map(m => [m.topic, m.properties?.payloadFormatIndicator, m.properties?.contentType]),
        [
          ['format/text', true, 'text/plain; charset=utf-8'],
          ['format/bytes', false, 'application/octet-stream']
        ]
      )
      assert.equal(got[0]?.payload, 'héllo ✓')
      assert.equal(pub.isClosed, false, 'a refused payload does not close the connection')
    } finally {
      await end(sub)
    }
  })

  test('PUBACK / PUBREC reason codes: 0x10 when no subscriber matches; 0x87 with a reason string for an ACL-denied topic and for a $SYS topic', {
    timeout: 15_000
  }, async () => {
    const { client: dev } = await raw('dev-1', { username: 'dev', password: Buffer.from('pw') })
    const { client: anon } = await raw('anon-1')
    const watcher = await connect(broker.mqttUrl, V5)
    const inbox = collector(watcher)
    await watcher.subscribeAsync('devices/#', { qos: 1 })
    try {
      anon.sendRaw(publish5({ topic: 'nobody/listens/here', payload: 'x', qos: 1, packetId: 1 }))
      anon.sendRaw(publish5({ topic: 'nobody/listens/here', payload: 'y', qos: 2, packetId: 2 }))
      const [noneAck] = (await anon.waitFor('puback', 1)) as IPubackPacket[]
      const [noneRec] = (await anon.waitFor('pubrec', 1)) as IPubrecPacket[]
      assert.deepEqual([noneAck?.reasonCode, noneRec?.reasonCode], [0x10, 0x10])
      dev.sendRaw(publish5({ topic: 'devices/dev-1/nobody', payload: 'x', qos: 1, packetId: 1 }))
      dev.sendRaw(publish5({ topic: 'devices/dev-1/t', payload: 'mine', qos: 1, packetId: 2 }))
      dev.sendRaw(publish5({ topic: 'devices/dev-2/t', payload: 'not mine', qos: 1, packetId: 3 }))
      dev.sendRaw(publish5({ topic: '$SYS/x', payload: 'forged', qos: 1, packetId: 4 }))
      dev.sendRaw(publish5({ topic: 'devices/dev-2/t', payload: 'not mine 2', qos: 2, packetId: 5 }))
      const acks = (await dev.waitFor('puback', 4)) as IPubackPacket[]
      const recs = (await dev.waitFor('pubrec', 1)) as IPubrecPacket[]
      assert.deepEqual(
        acks.map(a => [a.messageId, a.reasonCode ?? 0]),
        [
          [1, 0x00],
          [2, 0x00],
          [3, 0x87],
          [4, 0x87]
        ]
      )
      assert.deepEqual(
        recs.map(a => [a.messageId, a.reasonCode ?? 0]),
        [[5, 0x87]]
      )
      assert.match(String(acks[2]?.properties?.reasonString), /devices\/dev-2\/t/)
      assert.match(String(acks[3]?.properties?.reasonString), /\$SYS\/x/)
      assert.match(String(recs[0]?.properties?.reasonString), /not authorized/)
      await inbox.waitFor(2)
      await holdsFor('refused publishes are not delivered', () => inbox.messages.length === 2, 200)
      assert.deepEqual(
        inbox.messages.map(m => m.payload),
        ['x', 'mine']
      )
      assert.equal(dev.isClosed, false)
    } finally {
      await end(watcher)
    }
  })

  test('PUBREL for an unknown packet id: PUBCOMP 0x92; a known one: PUBCOMP 0x00', { timeout: 15_000 }, async () => {
    const { client } = await raw('pubrel-unknown')
    client.send({ cmd: 'pubrel', messageId: 4242 })
    client.sendRaw(publish5({ topic: 'q2/x', payload: 'x', qos: 2, packetId: 7 }))
    await client.waitFor('pubrec', 1)
    client.send({ cmd: 'pubrel', messageId: 7 })
    const comps = (await client.waitFor('pubcomp', 2)) as IPubcompPacket[]
    assert.deepEqual(
      comps.map(c => [c.messageId, c.reasonCode ?? 0]),
      [
        [4242, 0x92],
        [7, 0]
      ]
    )
  })

  // The server's own Maximum Packet Size (a larger PUBLISH: DISCONNECT 0x95) is in mqtt5-errors.test.ts.
  test("the client's Maximum Packet Size: a larger delivery is skipped as if sent, the others still come [MQTT-3.1.2-24] [MQTT-3.1.2-25]", {
    timeout: 15_000
  }, async () => {
    const { client: sub } = await raw('mps-sub', { properties: { maximumPacketSize: 256 } })
    await subscribeRaw(sub, 'mps/#', 1)
    const pub = await connect(broker.mqttUrl, V5)
    const metric = async (): Promise<number> => {
      const text = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
      return Number(/^wharf_mqtt_oversize_deliveries_total(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0)
    }
    try {
      const before = await metric()
      await pub.publishAsync('mps/a', 'small 1', { qos: 1 })
      await pub.publishAsync('mps/a', 'x'.repeat(300), { qos: 1 })
      await pub.publishAsync('mps/a', 'y'.repeat(150), { qos: 0 })
      await pub.publishAsync('mps/a', 'small 2', { qos: 1, properties: { userProperties: { big: 'z'.repeat(300) } } })
      await pub.publishAsync('mps/a', 'small 3', { qos: 1 })
      await sub.waitFor('publish', 3)
      const got = sub.rawOf('publish')
      for (const p of got) if ((p.packet as IPublishPacket).qos > 0) sub.send({ cmd: 'puback', messageId: (p.packet as IPublishPacket).messageId as number })
      await holdsFor('the oversize deliveries never come', () => sub.of('publish').length === 3, 200)
      assert.deepEqual(
        got.map(p => decodePublish5(p.raw).payload.toString()),
        ['small 1', 'y'.repeat(150), 'small 3']
      )
      for (const p of got) assert.ok(p.raw.length <= 256, `a PUBLISH of ${p.raw.length} bytes was sent`)
      // Skipped as if acknowledged: nothing stays in the session queue.
      await eventually('the session queue is empty', async () => (await queueMessages('mqtt-session/mps-sub')) === 0)
      assert.equal((await metric()) - before, 2)
    } finally {
      await end(pub)
    }
  })

  test("the client's Receive Maximum bounds the QoS 1/2 deliveries in flight; each PUBACK / PUBCOMP frees one [MQTT-3.3.4-9] [MQTT-4.9.0-2]", {
    timeout: 15_000
  }, async () => {
    const { client: sub } = await raw('rm-sub', { properties: { receiveMaximum: 3 } })
    await subscribeRaw(sub, 'rm/#', 2)
    const pub = await connect(broker.mqttUrl, V5)
    try {
      for (let i = 0; i < 6; i++) await pub.publishAsync('rm/t', `q1-${i}`, { qos: 1 })
      for (let i = 0; i < 2; i++) await pub.publishAsync('rm/t', `q2-${i}`, { qos: 2 })
      await sub.waitFor('publish', 3)
      await holdsFor('no more than Receive Maximum unacknowledged', () => sub.of('publish').length === 3, 300)
      const idOf = (i: number): number => (sub.of('publish')[i] as IPublishPacket).messageId as number
      sub.send({ cmd: 'puback', messageId: idOf(0) })
      await sub.waitFor('publish', 4)
      await holdsFor('one PUBACK frees one', () => sub.of('publish').length === 4, 200)
      for (let i = 1; i < 6; i++) {
        sub.send({ cmd: 'puback', messageId: idOf(i) })
        await sub.waitFor('publish', Math.min(i + 4, 8))
      }
      const all = sub.of('publish') as IPublishPacket[]
      assert.deepEqual(
        all.map(p => [String(p.payload), p.qos]),
        [...[0, 1, 2, 3, 4, 5].map(i => [`q1-${i}`, 1]), ['q2-0', 2], ['q2-1', 2]]
      )
      // QoS 2: the PUBREL stage still holds its place until PUBCOMP.
      sub.send({ cmd: 'pubrec', messageId: idOf(6) })
      await sub.waitFor('pubrel', 1)
      sub.send({ cmd: 'pubrec', messageId: idOf(7) })
      await sub.waitFor('pubrel', 2)
      sub.send({ cmd: 'pubcomp', messageId: idOf(6) })
      sub.send({ cmd: 'pubcomp', messageId: idOf(7) })
      await eventually('the session queue is empty', async () => (await queueMessages('mqtt-session/rm-sub')) === 0)
    } finally {
      await end(pub)
    }
  })
})
