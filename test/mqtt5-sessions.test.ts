// MQTT 5 sessions end to end (mqtt.js at protocol 5 and 4, raw sockets for the strict cases):
// session expiry and clean start, client identifiers, takeover, wills, keep alive, CONNACK.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import type { IClientOptions, MqttClient } from 'mqtt'
import type { IConnackPacket, IDisconnectPacket, IPublishPacket, ISubackPacket } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { connect, collector, end, closed, settled } from './support/mqtt-helpers.ts'
import { rawConnect5, rawOpen, wire, withTimeout } from './support/raw-mqtt.ts'
import { eventually, holdsFor } from './support/wait.ts'
import { sessionQueueName } from '../adapters/mqtt/topic-grammar.ts'

const v5 = (clientId: string, opts: IClientOptions = {}): IClientOptions => ({ protocolVersion: 5, clientId, ...opts })
const connackOf = (client: MqttClient): IConnackPacket => (client as unknown as { connackPacket: IConnackPacket }).connackPacket
const sessionExists = (broker: TestBroker, clientId: string): boolean => broker.node.broker.vhost('/')?.queueNamed(sessionQueueName(clientId)) !== undefined

/** DISCONNECT with a reason code (and properties), then the close: a graceful end. */
async function disconnect(client: MqttClient, reasonCode = 0, properties?: IDisconnectPacket['properties']): Promise<void> {
  await withTimeout(client.endAsync(false, properties === undefined ? { reasonCode } : { reasonCode, properties }), 5000, 'DISCONNECT and close')
}

/** The 'disconnect' packet a server sends to an mqtt.js client, or a rejection after timeoutMs. */
function serverDisconnect(client: MqttClient, timeoutMs = 5000): Promise<IDisconnectPacket> {
  return withTimeout(new Promise(resolve => client.once('disconnect', resolve)), timeoutMs, 'server DISCONNECT')
}

async function publishAll(url: string, topic: string, payloads: string[], qos: 0 | 1 | 2 = 1): Promise<void> {
  const pub = await connect(url, v5(`pub-${Math.random().toString(36).slice(2)}`))
  try {
    for (const p of payloads) await pub.publishAsync(topic, p, { qos })
  } finally {
    await end(pub)
  }
}

describe('MQTT 5 session expiry and clean start', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker()
  })
  after(async () => {
    await broker.close()
  })

  test('Session Expiry 0 (absent) ends the session when the connection closes [MQTT-3.1.2-23] [MQTT-3.2.2-3]', async () => {
    const sub = await connect(broker.mqttUrl, v5('exp0', { clean: false }))
    await sub.subscribeAsync('exp0/#', { qos: 1 })
    assert.equal(sessionExists(broker, 'exp0'), true)
    await disconnect(sub)
    await eventually('the expiry-0 session to end', () => !sessionExists(broker, 'exp0'))
    await publishAll(broker.mqttUrl, 'exp0/x', ['lost'])
    const back = await connect(broker.mqttUrl, v5('exp0', { clean: false }))
    const got = collector(back)
    assert.equal(connackOf(back).sessionPresent, false)
    await holdsFor('no message for a session that ended', () => got.messages.length === 0, 300)
    await end(back)
  })

  test('a Session Expiry of N s resumes: Session Present, queued QoS 1 messages in order [MQTT-3.1.2-5] [MQTT-3.2.2-3] [MQTT-4.6.0-6]', async () => {
    const sub = await connect(broker.mqttUrl, v5('expN', { clean: false, properties: { sessionExpiryInterval: 60 } }))
    assert.equal(connackOf(sub).sessionPresent, false) // [MQTT-3.1.2-6] a new session
    await sub.subscribeAsync('expN/#', { qos: 1 })
    await disconnect(sub)
    const payloads = Array.from({ length: 20 }, (_, i) => `q${i}`)
    await publishAll(broker.mqttUrl, 'expN/data', payloads)
    const back = await connect(broker.mqttUrl, v5('expN', { clean: false, properties: { sessionExpiryInterval: 60 } }))
    assert.equal(connackOf(back).sessionPresent, true)
    const got = collector(back)
    await got.waitFor(20)
    assert.deepEqual(
      got.messages.map(m => [m.payload, m.qos]),
      payloads.map(p => [p, 1])
    )
    // The subscription is part of the resumed session: a new publish reaches it too.
    await publishAll(broker.mqttUrl, 'expN/data', ['after'])
    assert.equal((await got.waitFor(21)).at(-1)?.payload, 'after')
    await disconnect(back, 0, { sessionExpiryInterval: 0 })
  })

  test('a session whose expiry passed is discarded: Session Present 0, nothing queued delivered [MQTT-4.1.0-2]', async () => {
    const sub = await connect(broker.mqttUrl, v5('exp1', { clean: false, properties: { sessionExpiryInterval: 1 } }))
    await sub.subscribeAsync('exp1/#', { qos: 1 })
    await disconnect(sub)
    const disconnectedAt = Date.now()
    await publishAll(broker.mqttUrl, 'exp1/x', ['a', 'b'])
    assert.equal(sessionExists(broker, 'exp1'), true, 'kept while the expiry runs')
    await eventually('the 1 s session to expire', () => !sessionExists(broker, 'exp1'), 5000)
    assert.ok(Date.now() - disconnectedAt >= 900, `expired after ${Date.now() - disconnectedAt} ms, not 1 s`)
    const back = await connect(broker.mqttUrl, v5('exp1', { clean: false, properties: { sessionExpiryInterval: 1 } }))
    const got = collector(back)
    assert.equal(connackOf(back).sessionPresent, false)
    await publishAll(broker.mqttUrl, 'exp1/x', ['not-subscribed'])
    await holdsFor('nothing from the expired session or its subscription', () => got.messages.length === 0, 300)
    await end(back)
  })

  test('Clean Start 1 discards the existing session: Session Present 0, no queued messages, no old subscription [MQTT-3.1.2-4] [MQTT-3.2.2-2]', async () => {
    const sub = await connect(broker.mqttUrl, v5('cs1', { clean: false, properties: { sessionExpiryInterval: 60 } }))
    await sub.subscribeAsync('cs1/#', { qos: 1 })
    await disconnect(sub)
    await publishAll(broker.mqttUrl, 'cs1/x', ['queued'])
    const fresh = await connect(broker.mqttUrl, v5('cs1', { clean: true, properties: { sessionExpiryInterval: 60 } }))
    assert.equal(connackOf(fresh).sessionPresent, false)
    const got = collector(fresh)
    await publishAll(broker.mqttUrl, 'cs1/x', ['after-clean-start'])
    await holdsFor('nothing for the discarded session', () => got.messages.length === 0, 300)
    await disconnect(fresh, 0, { sessionExpiryInterval: 0 })
  })

  test('a Session Expiry set to 0 at DISCONNECT ends a session that had one [§3.14.2.2.2] [MQTT-4.1.0-2]', async () => {
    const sub = await connect(broker.mqttUrl, v5('disc0', { clean: false, properties: { sessionExpiryInterval: 3600 } }))
    await sub.subscribeAsync('disc0/#', { qos: 1 })
    await disconnect(sub, 0, { sessionExpiryInterval: 0 })
    await eventually('the session to end at DISCONNECT', () => !sessionExists(broker, 'disc0'))
    const back = await connect(broker.mqttUrl, v5('disc0', { clean: false }))
    assert.equal(connackOf(back).sessionPresent, false)
    await end(back)
  })

  test('a Session Expiry raised at DISCONNECT keeps the session past the CONNECT value [§3.14.2.2.2] [MQTT-3.1.2-23]', async () => {
    const sub = await connect(broker.mqttUrl, v5('discN', { clean: false, properties: { sessionExpiryInterval: 1 } }))
    await sub.subscribeAsync('discN/#', { qos: 1 })
    await disconnect(sub, 0, { sessionExpiryInterval: 60 })
    await publishAll(broker.mqttUrl, 'discN/x', ['kept'])
    await holdsFor('the session outlives the 1 s it had at CONNECT', () => sessionExists(broker, 'discN'), 1800)
    const back = await connect(broker.mqttUrl, v5('discN', { clean: false }))
    assert.equal(connackOf(back).sessionPresent, true)
    assert.deepEqual(
      (await collector(back).waitFor(1)).map(m => m.payload),
      ['kept']
    )
    await end(back)
  })

  test('raising Session Expiry from 0 at DISCONNECT is a Protocol Error: DISCONNECT 0x82, the will is published, the session ends [§3.14.2.2.2]', async () => {
    const watcher = await connect(broker.mqttUrl, v5('raise-watch'))
    const wills = collector(watcher)
    await watcher.subscribeAsync('raise/will', { qos: 1 })
    const peer = await rawConnect5(broker.node.ports.mqtt, {
      clientId: 'raise0',
      clean: false,
      will: { topic: 'raise/will', payload: Buffer.from('gone'), qos: 1, retain: false }
    })
    assert.equal(peer.connack.reasonCode, 0)
    peer.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } })
    const reply = await peer.waitFor<IDisconnectPacket>('server DISCONNECT', p => p.cmd === 'disconnect')
    assert.equal(reply.reasonCode, 0x82)
    assert.equal(reply.properties?.sessionExpiryInterval, undefined) // [MQTT-3.14.2-2]
    await peer.waitClosed()
    // Not a normal disconnection, so the will goes [MQTT-3.1.2-8], and the expiry stayed 0.
    assert.deepEqual(
      (await wills.waitFor(1)).map(m => m.payload),
      ['gone']
    )
    await eventually('the expiry-0 session to end', () => !sessionExists(broker, 'raise0'))
    await end(watcher)
  })

  test('a client that goes away before its CONNACK leaves its session to expire as a disconnect does [MQTT-4.1.0-2]', async () => {
    for (const [clientId, expiry] of [
      ['gone-early-0', 0],
      ['gone-early-1', 1]
    ] as const) {
      const peer = await rawOpen(broker.node.ports.mqtt)
      peer.write(wire.packet(0x10, wire.utf8('MQTT'), Buffer.from([5, 0x00]), wire.u16(30), wire.props(wire.prop.u32(0x11, expiry)), wire.utf8(clientId)))
      peer.destroy() // at once: the close comes while the session is being opened, before the CONNACK
      await peer.closed
      await eventually(
        `the session of ${clientId} to be opened`,
        () => sessionExists(broker, clientId) || broker.logs.some(l => l.msg === 'mqtt session ended' && l.clientId === clientId)
      )
      await eventually(`the session of ${clientId} to end (expiry ${expiry} s)`, () => !sessionExists(broker, clientId), 5000)
      const back = await connect(broker.mqttUrl, v5(clientId, { clean: false }))
      assert.equal(connackOf(back).sessionPresent, false)
      await end(back)
    }
  })

  test('MQTT 3.1 (MQIsdp, level 3) clients connect, keep a session, and exchange messages with MQTT 5 ones', async () => {
    const old = await connect(broker.mqttUrl, { protocolVersion: 3, protocolId: 'MQIsdp', clientId: 'v31', clean: false })
    await old.subscribeAsync('v31/#', { qos: 1 })
    await end(old)
    await publishAll(broker.mqttUrl, 'v31/x', ['from-5'])
    const back = await connect(broker.mqttUrl, { protocolVersion: 3, protocolId: 'MQIsdp', clientId: 'v31', clean: false })
    // 3.1's CONNACK has no Session Present flag (its first byte is reserved, b136540): the session shows in what comes.
    assert.equal(connackOf(back).sessionPresent, false)
    assert.deepEqual(
      (await collector(back).waitFor(1)).map(m => m.payload),
      ['from-5']
    )
    await end(back)
    await eventually('3.1 session row', () => sessionExists(broker, 'v31'))
    const clean = await connect(broker.mqttUrl, { protocolVersion: 3, protocolId: 'MQIsdp', clientId: 'v31', clean: true })
    await end(clean)
  })

  test('MQTT 3.1.1 clean=false sessions never expire: stored with no expiry, resumed with Session Present [MQTT-3.1.2-4 (3.1.1)]', async () => {
    const sub = await connect(broker.mqttUrl, { clientId: 'v4-persist', clean: false })
    await sub.subscribeAsync('v4p/#', { qos: 1 })
    await end(sub)
    await publishAll(broker.mqttUrl, 'v4p/x', ['one', 'two'])
    const row = broker.node.store.db.prepare('SELECT expiry_seconds FROM mqtt_sessions WHERE client_id = ?').get('v4-persist') as
      | { expiry_seconds: number | null }
      | undefined
    assert.deepEqual(row, { expiry_seconds: null })
    const back = await connect(broker.mqttUrl, { clientId: 'v4-persist', clean: false })
    assert.equal(connackOf(back).sessionPresent, true)
    assert.deepEqual(
      (await collector(back).waitFor(2)).map(m => m.payload),
      ['one', 'two']
    )
    await end(back)
    // A 3.1.1 clean session keeps nothing.
    const clean = await connect(broker.mqttUrl, { clientId: 'v4-persist', clean: true })
    assert.equal(connackOf(clean).sessionPresent, false)
    await end(clean)
    await eventually('the clean session to end', () => !sessionExists(broker, 'v4-persist'))
  })
})

describe('MQTT client identifiers and takeover', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker()
  })
  after(async () => {
    await broker.close()
  })

  test('3.1.1: a zero-length client id with clean session gets an assigned, unique id [MQTT-3.1.3-6 (3.1.1)]', async () => {
    const a = await rawConnect5(broker.node.ports.mqtt, { protocolVersion: 4, clientId: '', clean: true })
    const b = await rawConnect5(broker.node.ports.mqtt, { protocolVersion: 4, clientId: '', clean: true })
    assert.deepEqual([a.connack.returnCode, b.connack.returnCode], [0, 0])
    // Distinct ids: the second did not take the first one's session over.
    a.send({ cmd: 'pingreq' })
    await a.waitFor('PINGRESP on the first connection', p => p.cmd === 'pingresp')
    assert.equal(a.isClosed(), false)
    a.destroy()
    b.destroy()
  })

  test('3.1.1: a zero-length client id with clean=false is refused with return code 2 and closed [MQTT-3.1.3-8 (3.1.1)]', async () => {
    // Built by hand: mqtt-packet refuses to encode this CONNECT.
    const peer = await rawOpen(broker.node.ports.mqtt, 4)
    peer.write(wire.packet(0x10, wire.utf8('MQTT'), Buffer.from([4, 0x00]), wire.u16(30), wire.utf8('')))
    const connack = await peer.waitFor<IConnackPacket>('CONNACK', p => p.cmd === 'connack')
    assert.equal(connack.returnCode, 2)
    assert.equal(connack.sessionPresent, false)
    await peer.waitClosed()
  })

  test('MQTT 5: a zero-length client id gets an Assigned Client Identifier in CONNACK, new for each [MQTT-3.1.3-6] [MQTT-3.1.3-7] [MQTT-3.2.2-16]', async () => {
    const a = await rawConnect5(broker.node.ports.mqtt, { clientId: '', clean: true })
    // Clean Start 0 with an expiry, built by hand (mqtt-packet refuses to encode an empty id with it).
    const b = await rawOpen(broker.node.ports.mqtt)
    b.write(wire.packet(0x10, wire.utf8('MQTT'), Buffer.from([5, 0x00]), wire.u16(30), wire.props(wire.prop.u32(0x11, 30)), wire.utf8('')))
    const bConnack = await b.waitFor<IConnackPacket>('CONNACK', p => p.cmd === 'connack')
    const idA = a.connack.properties?.assignedClientIdentifier
    const idB = bConnack.properties?.assignedClientIdentifier
    assert.equal(a.connack.reasonCode, 0)
    assert.equal(bConnack.reasonCode, 0)
    assert.ok(typeof idA === 'string' && idA.length > 0, `assigned id ${String(idA)}`)
    assert.ok(typeof idB === 'string' && idB.length > 0 && idB !== idA, `second assigned id ${String(idB)}`)
    // The session is kept under the assigned id: it can be resumed by that id.
    b.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'assigned/#', qos: 1 }] })
    await b.waitFor('SUBACK', p => p.cmd === 'suback')
    b.destroy()
    await b.closed
    const back = await connect(broker.mqttUrl, v5(idB, { clean: false, properties: { sessionExpiryInterval: 30 } }))
    assert.equal(connackOf(back).sessionPresent, true)
    // A client id the client chose gets no Assigned Client Identifier.
    assert.equal(connackOf(back).properties?.assignedClientIdentifier, undefined)
    await disconnect(back, 0, { sessionExpiryInterval: 0 })
    a.destroy()
  })

  test('a client identifier over mqtt.maxClientIdLength is refused: 0x85 (5.0), return code 2 (3.1.1) [MQTT-3.1.3-8] [MQTT-3.1.3-5]', async () => {
    const long = 'x'.repeat(257) // the default maximum is 256
    const five = await rawConnect5(broker.node.ports.mqtt, { clientId: long })
    assert.equal(five.connack.reasonCode, 0x85)
    await five.waitClosed()
    const four = await rawConnect5(broker.node.ports.mqtt, { protocolVersion: 4, clientId: long })
    assert.equal(four.connack.returnCode, 2)
    await four.waitClosed()
    // 1 to 23 of [0-9a-zA-Z] must be allowed [MQTT-3.1.3-5].
    const short = await connect(broker.mqttUrl, v5('aZ09aZ09aZ09aZ09aZ09aZ0'))
    await end(short)
  })

  test('MQTT 5 takeover: the connected client gets DISCONNECT 0x8E and is closed; the new one resumes the session [MQTT-3.1.4-3]', async () => {
    const first = await connect(broker.mqttUrl, v5('twin', { clean: false, properties: { sessionExpiryInterval: 60 } }))
    await first.subscribeAsync('twin/#', { qos: 1 })
    const kicked = serverDisconnect(first)
    const firstClosed = closed(first)
    const second = await connect(broker.mqttUrl, v5('twin', { clean: false, properties: { sessionExpiryInterval: 60 } }))
    assert.equal((await kicked).reasonCode, 0x8e)
    await firstClosed
    assert.equal(connackOf(second).sessionPresent, true)
    const got = collector(second)
    await publishAll(broker.mqttUrl, 'twin/x', ['to-the-new-one'])
    assert.deepEqual(
      (await got.waitFor(1)).map(m => m.payload),
      ['to-the-new-one']
    )
    await disconnect(second, 0, { sessionExpiryInterval: 0 })
  })

  test('two CONNECTs with one client id at the same moment: one takes the other over, never both connected [MQTT-3.1.4-3]', async () => {
    for (const round of [1, 2, 3]) {
      const connectBytes = wire.packet(
        0x10,
        wire.utf8('MQTT'),
        Buffer.from([5, 0x00]),
        wire.u16(30),
        wire.props(wire.prop.u32(0x11, 60)),
        wire.utf8('twin-race')
      )
      const a = await rawOpen(broker.node.ports.mqtt)
      const b = await rawOpen(broker.node.ports.mqtt)
      a.write(connectBytes)
      b.write(connectBytes)
      await a.waitFor('CONNACK on the first', p => p.cmd === 'connack')
      await b.waitFor('CONNACK on the second', p => p.cmd === 'connack')
      // Exactly one survives; the other was told 0x8E and closed.
      await eventually(`round ${round}: one of the two closed`, () => a.isClosed() || b.isClosed())
      const [gone, kept] = a.isClosed() ? [a, b] : [b, a]
      assert.equal(kept.isClosed(), false, `round ${round}: both closed`)
      assert.equal(gone.packets.find(p => p.cmd === 'disconnect')?.reasonCode, 0x8e)
      kept.send({ cmd: 'pingreq' })
      await kept.waitFor('PINGRESP on the survivor', p => p.cmd === 'pingresp')
      kept.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } })
      await kept.waitClosed()
      await eventually('the session to end', () => !sessionExists(broker, 'twin-race'))
    }
  })

  test('one session across transports: made over TCP, taken over (0x8E) and resumed over WebSocket [MQTT-3.1.4-3] [MQTT-3.1.2-5]', async () => {
    const tcp = await connect(broker.mqttUrl, v5('cross-transport', { clean: false, properties: { sessionExpiryInterval: 60 } }))
    await tcp.subscribeAsync('xt/#', { qos: 1 })
    const kicked = serverDisconnect(tcp)
    const ws = await connect(broker.wsUrl, v5('cross-transport', { clean: false, properties: { sessionExpiryInterval: 60 } }))
    assert.equal((await kicked).reasonCode, 0x8e)
    assert.equal(connackOf(ws).sessionPresent, true)
    const got = collector(ws)
    await publishAll(broker.mqttUrl, 'xt/x', ['over ws'])
    assert.deepEqual(
      (await got.waitFor(1)).map(m => m.payload),
      ['over ws']
    )
    await disconnect(ws, 0, { sessionExpiryInterval: 0 })
    await end(tcp)
  })

  test('3.1.1 takeover: the connected client is closed, the new one connected [MQTT-3.1.4-2 (3.1.1)]', async () => {
    const first = await connect(broker.mqttUrl, { clientId: 'twin4', clean: true })
    const firstClosed = closed(first)
    const second = await connect(broker.mqttUrl, { clientId: 'twin4', clean: true })
    await firstClosed
    assert.equal(second.connected, true)
    await end(first, second)
  })

  test("a takeover with Clean Start 1 ends the old session; the old connection's will is published [MQTT-3.1.4-3] [MQTT-3.1.2-4]", async () => {
    const watcher = await connect(broker.mqttUrl, v5('twin-watch'))
    const wills = collector(watcher)
    await watcher.subscribeAsync('twin-will', { qos: 1 })
    const first = await connect(
      broker.mqttUrl,
      v5('twin-clean', {
        clean: false,
        properties: { sessionExpiryInterval: 60 },
        will: { topic: 'twin-will', payload: Buffer.from('first gone'), qos: 1, retain: false }
      })
    )
    await first.subscribeAsync('twin-clean/#', { qos: 1 })
    const kicked = serverDisconnect(first)
    const second = await connect(broker.mqttUrl, v5('twin-clean', { clean: true }))
    assert.equal((await kicked).reasonCode, 0x8e)
    assert.equal(connackOf(second).sessionPresent, false)
    assert.deepEqual(
      (await wills.waitFor(1)).map(m => m.payload),
      ['first gone']
    )
    await end(second, watcher, first)
  })
})

describe('MQTT 5 wills', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker()
  })
  after(async () => {
    await broker.close()
  })

  async function watch(topic: string): Promise<{ client: MqttClient; got: ReturnType<typeof collector> }> {
    const client = await connect(broker.mqttUrl, v5(`watch-${topic.replace(/\W/g, '-')}`))
    const got = collector(client)
    await client.subscribeAsync(topic, { qos: 1 })
    return { client, got }
  }

  const will = (topic: string, payload: string, properties?: Record<string, unknown>): IClientOptions['will'] => ({
    topic,
    payload: Buffer.from(payload),
    qos: 1,
    retain: false,
    ...(properties === undefined ? {} : { properties })
  })

  test('the will is published when the connection closes without DISCONNECT [MQTT-3.1.2-8]', async () => {
    const w = await watch('will/drop')
    const c = await connect(broker.mqttUrl, v5('will-drop', { will: will('will/drop', 'dropped') }))
    c.stream.destroy()
    assert.deepEqual(
      (await w.got.waitFor(1)).map(m => m.payload),
      ['dropped']
    )
    await end(c, w.client)
  })

  test('a will with Will Retain 1 is published as a retained message [MQTT-3.1.2-15]', async () => {
    const w = await watch('will/retained')
    const c = await connect(broker.mqttUrl, v5('will-retained', { will: { topic: 'will/retained', payload: Buffer.from('last state'), qos: 1, retain: true } }))
    c.stream.destroy()
    await w.got.waitFor(1) // routed, so retained too
    const late = await connect(broker.mqttUrl, v5('will-retained-late'))
    const got = collector(late)
    await late.subscribeAsync('will/retained', { qos: 1 })
    const [m] = await got.waitFor(1)
    assert.deepEqual([m?.payload, m?.retain], ['last state', true])
    await end(late, w.client)
  })

  test('no will after DISCONNECT 0x00 [MQTT-3.14.4-3] [MQTT-3.1.2-10]', async () => {
    const w = await watch('will/normal')
    const c = await connect(broker.mqttUrl, v5('will-normal', { will: will('will/normal', 'must not appear') }))
    await disconnect(c, 0x00)
    await holdsFor('no will after a normal disconnection', () => w.got.messages.length === 0, 500)
    await end(w.client)
  })

  test('the will is published after DISCONNECT 0x04 (Disconnect with Will Message)', async () => {
    const w = await watch('will/0x04')
    const c = await connect(broker.mqttUrl, v5('will-04', { will: will('will/0x04', 'asked for') }))
    await disconnect(c, 0x04)
    assert.deepEqual(
      (await w.got.waitFor(1)).map(m => m.payload),
      ['asked for']
    )
    await end(w.client)
  })

  test('Will Delay Interval delays the will [MQTT-3.1.2-8]', async () => {
    const w = await watch('will/delayed')
    const c = await connect(
      broker.mqttUrl,
      v5('will-delay', { clean: false, properties: { sessionExpiryInterval: 60 }, will: will('will/delayed', 'late', { willDelayInterval: 1 }) })
    )
    const droppedAt = Date.now()
    c.stream.destroy()
    await w.got.waitFor(1, 5000)
    const waitedMs = Date.now() - droppedAt
    assert.ok(waitedMs >= 900, `will published after ${waitedMs} ms, before its 1 s delay`)
    assert.deepEqual(
      w.got.messages.map(m => m.payload),
      ['late']
    )
    const back = await connect(broker.mqttUrl, v5('will-delay', { clean: true }))
    await end(back, w.client)
  })

  test('a reconnect within the Will Delay Interval cancels the will [MQTT-3.1.3-9]', async () => {
    const w = await watch('will/cancelled')
    const c = await connect(
      broker.mqttUrl,
      v5('will-cancel', { clean: false, properties: { sessionExpiryInterval: 60 }, will: will('will/cancelled', 'must not appear', { willDelayInterval: 1 }) })
    )
    c.stream.destroy()
    await closed(c)
    const back = await connect(broker.mqttUrl, v5('will-cancel', { clean: false, properties: { sessionExpiryInterval: 60 } }))
    assert.equal(connackOf(back).sessionPresent, true)
    await holdsFor('no will once the session resumed within the delay', () => w.got.messages.length === 0, 1800)
    await disconnect(back, 0, { sessionExpiryInterval: 0 })
    await end(w.client)
  })

  test('a will whose delay is longer than the session expiry is published when the session ends [MQTT-3.1.2-8]', async () => {
    const w = await watch('will/at-expiry')
    const c = await connect(
      broker.mqttUrl,
      v5('will-expiry', { clean: false, properties: { sessionExpiryInterval: 1 }, will: will('will/at-expiry', 'session over', { willDelayInterval: 3600 }) })
    )
    const droppedAt = Date.now()
    c.stream.destroy()
    await w.got.waitFor(1, 5000)
    assert.ok(Date.now() - droppedAt >= 900, 'not before the session expiry')
    assert.deepEqual(
      w.got.messages.map(m => m.payload),
      ['session over']
    )
    await eventually('the session to be gone', () => !sessionExists(broker, 'will-expiry'))
    await end(w.client)
  })

  test('will properties reach the subscriber: content type, response topic, correlation data, user properties in order, payload format [MQTT-3.3.2-4] [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-18] [MQTT-3.3.2-20]', async () => {
    const w = await watch('will/props')
    const c = await connect(
      broker.mqttUrl,
      v5('will-props', {
        will: will('will/props', '{"state":"offline"}', {
          contentType: 'application/json',
          responseTopic: 'will/reply',
          correlationData: Buffer.from([1, 2, 3]),
          payloadFormatIndicator: true,
          messageExpiryInterval: 3600,
          userProperties: { site: 'north', tag: ['b', 'a'] }
        })
      })
    )
    c.stream.destroy()
    const [m] = await w.got.waitFor(1)
    assert.equal(m?.payload, '{"state":"offline"}')
    const p = m?.properties ?? {}
    assert.equal(p.contentType, 'application/json')
    assert.equal(p.responseTopic, 'will/reply')
    assert.deepEqual(p.correlationData, Buffer.from([1, 2, 3]))
    assert.equal(p.payloadFormatIndicator, true)
    assert.ok(
      typeof p.messageExpiryInterval === 'number' && p.messageExpiryInterval > 3500 && p.messageExpiryInterval <= 3600,
      `message expiry ${String(p.messageExpiryInterval)}`
    )
    // mqtt-packet gives an object without prototype; its key order is the wire order.
    assert.deepEqual(Object.entries({ ...(p.userProperties as object) }), [
      ['site', 'north'],
      ['tag', ['b', 'a']]
    ])
    await end(c, w.client)
  })
})

describe('MQTT 5 sessions across a restart', { timeout: 60_000 }, () => {
  test('a session expiry keeps counting from the disconnect across a broker restart [MQTT-4.1.0-2] [MQTT-3.1.2-23]', async () => {
    const first = await startTestBroker()
    let second: TestBroker | undefined
    try {
      const c = await connect(first.mqttUrl, v5('exp-restart', { clean: false, properties: { sessionExpiryInterval: 3 } }))
      await c.subscribeAsync('exp-restart/#', { qos: 1 })
      await disconnect(c)
      const disconnectedAt = Date.now()
      await first.stop()
      // Down for 1.5 s of the 3: no condition to wait for but the clock.
      await eventually('1.5 s down', () => Date.now() > disconnectedAt + 1500, 5000)
      second = await startTestBroker(() => {}, first.dataDir)
      const restartedAt = Date.now()
      const b = second
      assert.equal(sessionExists(b, 'exp-restart'), true, 'restored, its expiry not yet passed')
      await eventually('the session to expire', () => !sessionExists(b, 'exp-restart'), 6000)
      const goneAt = Date.now()
      assert.ok(goneAt - disconnectedAt >= 2800, `expired ${goneAt - disconnectedAt} ms after the disconnect, before its 3 s`)
      assert.ok(goneAt - restartedAt < 2500, `expired ${goneAt - restartedAt} ms after the restart: the expiry started again at the restart`)
    } finally {
      await second?.stop()
      await first.close()
    }
  })

  test('a broker stop sends MQTT 5 clients DISCONNECT 0x8B; their wills go out exactly once across the restart [MQTT-3.1.2-8]', async () => {
    const first = await startTestBroker()
    let second: TestBroker | undefined
    try {
      const watcher = await connect(first.mqttUrl, v5('stop-watch', { clean: false, properties: { sessionExpiryInterval: 3600 } }))
      await watcher.subscribeAsync('stop/will', { qos: 1 })
      const c = await connect(first.mqttUrl, v5('stop-will', { will: { topic: 'stop/will', payload: Buffer.from('server went away'), qos: 1, retain: false } }))
      const told = serverDisconnect(c)
      const watcherTold = serverDisconnect(watcher)
      await first.stop()
      assert.equal((await told).reasonCode, 0x8b)
      assert.equal((await watcherTold).reasonCode, 0x8b)
      await end(c, watcher)
      second = await startTestBroker(() => {}, first.dataDir)
      const back = await connect(second.mqttUrl, v5('stop-watch', { clean: false, properties: { sessionExpiryInterval: 3600 } }))
      const got = collector(back)
      await got.waitFor(1)
      await settled(back)
      assert.deepEqual(
        got.messages.filter(m => m.topic === 'stop/will').map(m => m.payload),
        ['server went away']
      )
      await disconnect(back, 0, { sessionExpiryInterval: 0 })
    } finally {
      await second?.stop()
      await first.close()
    }
  })

  test('a will cancelled by a reconnect within its delay is not published after a restart either [MQTT-3.1.3-9] [MQTT-3.1.2-10]', async () => {
    const first = await startTestBroker()
    let second: TestBroker | undefined
    try {
      const c = await connect(
        first.mqttUrl,
        v5('stale-will', {
          clean: false,
          properties: { sessionExpiryInterval: 3600 },
          will: { topic: 'stale/will', payload: Buffer.from('old will'), qos: 1, retain: true, properties: { willDelayInterval: 1 } }
        })
      )
      c.stream.destroy()
      await closed(c)
      // Back within the delay, without a will this time: the old one is void.
      const back = await connect(first.mqttUrl, v5('stale-will', { clean: false, properties: { sessionExpiryInterval: 3600 } }))
      assert.equal(connackOf(back).sessionPresent, true)
      await end(back)
      await first.stop()
      second = await startTestBroker(() => {}, first.dataDir)
      const watcher = await connect(second.mqttUrl, v5('stale-watch'))
      const got = collector(watcher)
      await watcher.subscribeAsync('stale/will', { qos: 1 })
      await holdsFor('no will from the earlier connection (its delay was 1 s)', () => got.messages.length === 0, 1800)
      await end(watcher)
    } finally {
      await second?.stop()
      await first.close()
    }
  })
})

describe('MQTT keep alive', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker()
  })
  after(async () => {
    await broker.close()
  })

  test('a silent MQTT 5 client gets DISCONNECT 0x8D after 1.5 x Keep Alive and is closed [MQTT-3.1.2-22] [MQTT-3.2.2-22]', async () => {
    const peer = await rawConnect5(broker.node.ports.mqtt, { clientId: 'silent5', keepalive: 1 })
    const since = Date.now()
    assert.equal(peer.connack.properties?.serverKeepAlive, undefined) // the client's value is used
    const d = await peer.waitFor<IDisconnectPacket>('DISCONNECT for keep alive', p => p.cmd === 'disconnect', 5000)
    const afterMs = Date.now() - since
    assert.equal(d.reasonCode, 0x8d)
    assert.ok(afterMs >= 1400 && afterMs < 4000, `closed after ${afterMs} ms; 1.5 x 1 s expected`)
    await peer.waitClosed()
  })

  test('a silent 3.1.1 client is closed after 1.5 x Keep Alive; one that pings stays [MQTT-3.1.2-24 (3.1.1)]', async () => {
    const silent = await rawConnect5(broker.node.ports.mqtt, { protocolVersion: 4, clientId: 'silent4', keepalive: 1 })
    const pinging = await connect(broker.mqttUrl, { clientId: 'pinging4', keepalive: 1 })
    const since = Date.now()
    await silent.waitClosed(5000)
    assert.ok(Date.now() - since >= 1400, `closed after ${Date.now() - since} ms`)
    assert.deepEqual(
      silent.packets.map(p => p.cmd),
      ['connack']
    ) // 3.1.1 has no DISCONNECT from the server
    await holdsFor('a client sending PINGREQ stays connected', () => pinging.connected, 2000)
    await end(pinging)
  })
})

describe('Server Keep Alive (mqtt.serverKeepAliveSeconds)', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker(c => {
      c.mqtt.serverKeepAliveSeconds = 1
    })
  })
  after(async () => {
    await broker.close()
  })

  test("is announced in CONNACK and enforced instead of the client's Keep Alive [MQTT-3.2.2-21] [MQTT-3.1.2-22]", async () => {
    const peer = await rawConnect5(broker.node.ports.mqtt, { clientId: 'ska', keepalive: 600 })
    const since = Date.now()
    assert.equal(peer.connack.properties?.serverKeepAlive, 1)
    const d = await peer.waitFor<IDisconnectPacket>('DISCONNECT for keep alive', p => p.cmd === 'disconnect', 5000)
    assert.equal(d.reasonCode, 0x8d)
    assert.ok(Date.now() - since >= 1400, `closed after ${Date.now() - since} ms`)
    await peer.waitClosed()
  })

  test('mqtt.js follows the Server Keep Alive and stays connected', async () => {
    const c = await connect(broker.mqttUrl, v5('ska-mqttjs', { keepalive: 600 }))
    assert.equal(connackOf(c).properties?.serverKeepAlive, 1)
    await holdsFor("mqtt.js pinging at the server's interval stays connected", () => c.connected, 2500)
    await end(c)
  })
})

describe('CONNACK capabilities', { timeout: 60_000 }, () => {
  test('the defaults: retain, wildcard, shared and subscription-id available; Receive Maximum, Topic Alias Maximum, Maximum Packet Size; no Maximum QoS [MQTT-3.2.2-9]', async () => {
    const broker = await startTestBroker(c => {
      c.mqtt.receiveMaximum = 500
      c.mqtt.topicAliasMaximum = 20
      c.mqtt.maxPacketBytes = 65536
    })
    try {
      const c = await connect(broker.mqttUrl, v5('caps'))
      const p = connackOf(c).properties ?? {}
      assert.equal(p.retainAvailable, true)
      assert.equal(p.wildcardSubscriptionAvailable, true)
      assert.equal(p.sharedSubscriptionAvailable, true)
      assert.equal(p.subscriptionIdentifiersAvailable, true)
      assert.equal(p.receiveMaximum, 500)
      assert.equal(p.topicAliasMaximum, 20)
      assert.equal(p.maximumPacketSize, 65536)
      assert.equal(p.maximumQoS, undefined) // QoS 2 is supported
      assert.equal(p.assignedClientIdentifier, undefined)
      await end(c)
    } finally {
      await broker.close()
    }
  })

  test('mqtt.maximumQos 1: Maximum QoS 1 in CONNACK, SUBSCRIBE QoS 2 granted 1, a QoS 2 PUBLISH gets DISCONNECT 0x9B, a QoS 2 will is refused with 0x9B [MQTT-3.2.2-9] [MQTT-3.2.2-10] [MQTT-3.2.2-11] [MQTT-3.2.2-12]', async () => {
    const broker = await startTestBroker(c => {
      c.mqtt.maximumQos = 1
    })
    try {
      const peer = await rawConnect5(broker.node.ports.mqtt, { clientId: 'maxqos' })
      assert.equal(peer.connack.properties?.maximumQoS, 1)
      peer.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'mq/#', qos: 2 }] })
      const suback = await peer.waitFor<ISubackPacket>('SUBACK', p => p.cmd === 'suback')
      assert.deepEqual(suback.granted, [1])
      // A QoS 1 publish is still taken, and delivered at QoS 1.
      peer.send({ cmd: 'publish', topic: 'mq/ok', payload: Buffer.from('q1'), qos: 1, messageId: 2, retain: false, dup: false })
      await peer.waitFor('PUBACK', p => p.cmd === 'puback')
      const delivered = await peer.waitFor<IPublishPacket>('the delivery', p => p.cmd === 'publish')
      assert.equal(delivered.qos, 1)
      peer.send({ cmd: 'publish', topic: 'mq/x', payload: Buffer.from('q2'), qos: 2, messageId: 3, retain: false, dup: false })
      const d = await peer.waitFor<IDisconnectPacket>('DISCONNECT', p => p.cmd === 'disconnect')
      assert.equal(d.reasonCode, 0x9b)
      await peer.waitClosed()
      const willPeer = await rawConnect5(broker.node.ports.mqtt, {
        clientId: 'maxqos-will',
        will: { topic: 'mq/will', payload: Buffer.from('w'), qos: 2, retain: false }
      })
      assert.equal(willPeer.connack.reasonCode, 0x9b)
      await willPeer.waitClosed()
      // mqtt.js reads the Maximum QoS as well.
      const c = await connect(broker.mqttUrl, v5('maxqos-js'))
      assert.equal(connackOf(c).properties?.maximumQoS, 1)
      await end(c)
    } finally {
      await broker.close()
    }
  })

  test('nothing is sent before CONNECT, and nothing but CONNACK answers it [MQTT-3.2.0-1]', async () => {
    const broker = await startTestBroker()
    try {
      const peer = await rawOpen(broker.node.ports.mqtt)
      await holdsFor('no bytes before CONNECT', () => peer.bytes() === 0, 200)
      peer.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'first-packet', keepalive: 30 })
      await peer.waitFor('CONNACK', p => p.cmd === 'connack')
      assert.equal(peer.packets[0]?.cmd, 'connack')
      peer.destroy()
    } finally {
      await broker.close()
    }
  })
})
