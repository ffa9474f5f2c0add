// Outbound packet identifiers a restart cannot work out again, and QoS 2 deliveries of shared
// subscriptions, across reconnects and SIGKILLs of the broker. A QoS 2 receiver that keeps the ids
// of the PUBLISHes it took (method B of §4.3.3) acknowledges a PUBLISH under an id it holds as a
// resend and takes one under another id as a new message: a resend after a restart must carry the
// id the client last saw [MQTT-4.4.0-1], or the message is delivered twice [MQTT-4.3.3-10]. The
// broker is a child process; subscribers are raw mqtt-packet peers that answer only what the test
// says; publishers are mqtt.js.
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type mqttPacket from 'mqtt-packet'
import type { MqttClient } from 'mqtt'
import Database from 'better-sqlite3'
import { brokersOnOneDataDir, type BrokerProcess } from './support/broker-process.ts'
import { rawConnect5, type RawPeer } from './support/raw-mqtt.ts'
import { connect, end } from './support/mqtt-helpers.ts'
import { adminFetch } from './support/admin-http.ts'
import { eventually, holdsFor } from './support/wait.ts'

const VERSIONS = [
  { name: 'MQTT 5', protocolVersion: 5 as const },
  { name: 'MQTT 3.1.1', protocolVersion: 4 as const }
]
/** How long "this never arrives" is watched: only a broker that breaks the rule shows it. */
const WATCH_MS = 500
const GROUP = '$share/grp/sh/#'
const GROUP_QUEUE = 'mqtt-share/grp/sh/#'

type Publish = mqttPacket.IPublishPacket
type Peer = RawPeer & { connack: mqttPacket.IConnackPacket }

interface Options {
  protocolVersion: 4 | 5
  /** The subscribers' window: MQTT 5 Receive Maximum, 3.1.1 mqtt.maxInflightMessages. */
  window: number
  /** storage.commitWindowMs: a larger one widens the gap between a write and its commit. */
  commitWindowMs?: number
}

interface Run {
  start(): Promise<BrokerProcess>
  /** A raw peer; persistent: a session that outlives the connection (3.1.1 clean 0, 5.0 expiry 3600 s). */
  peer(broker: BrokerProcess, clientId: string, session: 'persistent' | 'clean' | { expirySeconds: number }): Promise<Peer>
  publisher(broker: BrokerProcess): Promise<MqttClient>
}

const dataDirs = new WeakMap<TestContext, string>()

function setUp(t: TestContext, o: Options): Run {
  // Its hook runs first (hooks run in the order added): every broker is down before its directory goes.
  const brokers = brokersOnOneDataDir(
    t,
    'wharf-packet-ids-',
    `storage:\n  commitWindowMs: ${o.commitWindowMs ?? 0}\nmqtt:\n  maxInflightMessages: ${o.window}\n`
  )
  dataDirs.set(t, brokers.dataDir)
  return {
    start: () => brokers.start(),
    async peer(broker, clientId, session) {
      const v5 = o.protocolVersion === 5
      const expiry = session === 'persistent' ? 3600 : session === 'clean' ? 0 : session.expirySeconds
      const packet: Partial<mqttPacket.IConnectPacket> = v5
        ? { clean: session === 'clean', properties: { sessionExpiryInterval: expiry, receiveMaximum: o.window } }
        : { clean: session !== 'persistent' }
      const peer = await rawConnect5(broker.ports.mqtt, { protocolVersion: o.protocolVersion, clientId, ...packet })
      t.after(() => peer.destroy())
      return peer
    },
    async publisher(broker) {
      const client = await connect(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { protocolVersion: o.protocolVersion })
      t.after(() => end(client))
      return client
    }
  }
}

async function subscribe(peer: RawPeer, subscriptions: Array<{ topic: string; qos: 0 | 1 | 2 }>): Promise<void> {
  const messageId = 100 + peer.packets.filter(p => p.cmd === 'suback').length
  peer.send({ cmd: 'subscribe', messageId, subscriptions })
  const ack = await peer.waitFor<mqttPacket.ISubackPacket>('SUBACK', p => p.cmd === 'suback' && p.messageId === messageId)
  assert.deepEqual(
    ack.granted,
    subscriptions.map(s => s.qos)
  )
}

const publishesOf = (peer: RawPeer, payload: string): Publish[] =>
  peer.packets.filter((p): p is Publish => p.cmd === 'publish' && String(p.payload) === payload)

const waitPublish = (peer: RawPeer, payload: string): Promise<Publish> =>
  peer.waitFor<Publish>(`PUBLISH of ${payload}`, p => p.cmd === 'publish' && String(p.payload) === payload, 10_000)

/** The QoS 2 exchange of a PUBLISH received under id, from PUBREC on. */
async function complete(peer: RawPeer, id: number): Promise<void> {
  const from = peer.packets.length
  peer.send({ cmd: 'pubrec', messageId: id })
  await peer.waitFor(`PUBREL ${id}`, p => p.cmd === 'pubrel' && p.messageId === id && peer.packets.indexOf(p) >= from, 10_000)
  peer.send({ cmd: 'pubcomp', messageId: id })
}

const idOf = (p: Publish): number => p.messageId ?? 0

/** Triggers that count every row written to or deleted from mqtt_outbound_ids (the broker is stopped). */
function countOutboundIdWrites(dataDir: string): void {
  const db = new Database(join(dataDir, 'wharf.db'))
  try {
    db.exec(`CREATE TABLE test_outbound_id_writes (n INTEGER NOT NULL); INSERT INTO test_outbound_id_writes VALUES (0);
      CREATE TRIGGER test_outbound_id_put AFTER INSERT ON mqtt_outbound_ids BEGIN UPDATE test_outbound_id_writes SET n = n + 1; END;
      CREATE TRIGGER test_outbound_id_delete AFTER DELETE ON mqtt_outbound_ids BEGIN UPDATE test_outbound_id_writes SET n = n + 1; END;`)
  } finally {
    db.close()
  }
}

function outboundIdWrites(dataDir: string): number {
  const db = new Database(join(dataDir, 'wharf.db'), { readonly: true })
  try {
    return db.prepare('SELECT n FROM test_outbound_id_writes').pluck().get() as number
  } finally {
    db.close()
  }
}

/** What the group's queue holds, ready and handed out. */
async function groupQueue(broker: BrokerProcess): Promise<{ messages: number; unacked: number }> {
  const res = await adminFetch(`http://127.0.0.1:${broker.ports.admin}/api/queues/%2F/${encodeURIComponent(GROUP_QUEUE)}`)
  const q = (await res.json()) as { messages: number; messages_unacknowledged?: number }
  return { messages: q.messages, unacked: q.messages_unacknowledged ?? 0 }
}

describe('outbound packet ids across a SIGKILL of the broker', { timeout: 300_000 }, () => {
  for (const v of VERSIONS) {
    test(`${v.name}: a PUBLISH whose own id was in use goes out under another, and is resent under that one after a SIGKILL [MQTT-4.4.0-1] [MQTT-2.2.1-4] [MQTT-4.3.3-10]`, {
      timeout: 60_000
    }, async t => {
      const run = setUp(t, { protocolVersion: v.protocolVersion, window: 10 })
      const dataDir = dataDirs.get(t) as string
      let broker = await run.start()
      assert.equal(await broker.terminate(), 0)
      countOutboundIdWrites(dataDir)
      broker = await run.start()
      const sub = await run.peer(broker, 'ids-clash', 'persistent')
      await subscribe(sub, [
        { topic: 'ids/plain', qos: 2 },
        { topic: '$share/g/ids/shared', qos: 1 }
      ])
      const pub = await run.publisher(broker)
      await pub.publishAsync('ids/plain', 'e1', { qos: 2 })
      const e1 = await waitPublish(sub, 'e1')
      await complete(sub, idOf(e1))
      // The group's delivery takes the id after the last one given, the one the session queue's next
      // entry derives from its place in the queue: that entry must take another.
      await pub.publishAsync('ids/shared', 's', { qos: 1 })
      const s = await waitPublish(sub, 's')
      assert.equal(idOf(s), idOf(e1) + 1, "precondition: the group's delivery holds the id the next entry's place gives")
      await pub.publishAsync('ids/plain', 'e2', { qos: 2 })
      const e2 = await waitPublish(sub, 'e2')
      // The client took e2 and keeps its id (its PUBREC is lost with the broker); s is acknowledged.
      sub.send({ cmd: 'puback', messageId: idOf(s) })
      await broker.kill()
      sub.destroy()
      assert.notEqual(idOf(e2), idOf(s), 'a new PUBLISH under an id not in use [MQTT-2.2.1-4]')

      broker = await run.start()
      const back = await run.peer(broker, 'ids-clash', 'persistent')
      assert.equal(back.connack.sessionPresent, true)
      const again = await waitPublish(back, 'e2')
      assert.deepEqual([idOf(again), again.dup, again.qos], [idOf(e2), true, 2], 'e2 again under the id it went out under, DUP [MQTT-4.4.0-1]')
      await complete(back, idOf(e2))
      for (const p of publishesOf(back, 's')) back.send({ cmd: 'puback', messageId: idOf(p) }) // QoS 1 may come again
      await holdsFor('e2 only once after the restart', () => publishesOf(back, 'e2').length === 1, WATCH_MS)

      // Its stored id went with the delivery: a clean stop and start brings nothing of it back.
      back.send({ cmd: 'disconnect' })
      await back.waitClosed()
      assert.equal(await broker.terminate(), 0)
      broker = await run.start()
      const last = await run.peer(broker, 'ids-clash', 'persistent')
      const pub2 = await run.publisher(broker)
      await pub2.publishAsync('ids/plain', 'e3', { qos: 2 })
      await complete(last, idOf(await waitPublish(last, 'e3')))
      assert.deepEqual(publishesOf(last, 'e2'), [], 'no PUBLISH of a completed exchange')
      last.send({ cmd: 'disconnect' })
      await last.waitClosed()
      assert.equal(await broker.terminate(), 0)
      assert.equal(outboundIdWrites(dataDir), 2, "e2's id: stored before its PUBLISH, deleted with its PUBREL's row")
    })

    test(`${v.name}: deliveries under the ids their places give, in flight across a SIGKILL, store no packet id (the common path writes nothing more) [MQTT-4.4.0-1]`, {
      timeout: 60_000
    }, async t => {
      const run = setUp(t, { protocolVersion: v.protocolVersion, window: 20 })
      const dataDir = dataDirs.get(t) as string
      let broker = await run.start()
      assert.equal(await broker.terminate(), 0)
      countOutboundIdWrites(dataDir)
      broker = await run.start()
      const sub = await run.peer(broker, 'ids-plain', 'persistent')
      await subscribe(sub, [
        { topic: 'ids/two', qos: 2 },
        { topic: 'ids/one', qos: 1 },
        { topic: '$share/g/ids/shared', qos: 2 }
      ])
      let pub = await run.publisher(broker)
      const payloads = Array.from({ length: 10 }, (_, i) => `m${i}`)
      for (const [i, payload] of payloads.entries()) await pub.publishAsync(i % 2 === 0 ? 'ids/two' : 'ids/one', payload, { qos: 2 })
      const sent = await Promise.all(payloads.map(payload => waitPublish(sub, payload)))
      await broker.kill() // none acknowledged
      sub.destroy()

      broker = await run.start()
      const back = await run.peer(broker, 'ids-plain', 'persistent')
      const again = await Promise.all(payloads.map(payload => waitPublish(back, payload)))
      assert.deepEqual(
        again.map(p => [idOf(p), p.dup]),
        sent.map(p => [idOf(p), true]),
        'each again under its id [MQTT-4.4.0-1]'
      )
      for (const p of again) {
        if (p.qos === 2) await complete(back, idOf(p))
        else back.send({ cmd: 'puback', messageId: idOf(p) })
      }
      // A group's QoS 1 delivery needs no stored id either (another member may have it after a restart).
      pub = await run.publisher(broker)
      await pub.publishAsync('ids/shared', 'shared', { qos: 1 })
      back.send({ cmd: 'puback', messageId: idOf(await waitPublish(back, 'shared')) })
      back.send({ cmd: 'disconnect' })
      await back.waitClosed()
      assert.equal(await broker.terminate(), 0)
      assert.equal(outboundIdWrites(dataDir), 0, 'no packet id row written or deleted')
    })

    test(`${v.name}: an id PUBCOMP freed serves a new PUBLISH only once its PUBREL is forgotten for good: a SIGKILL brings back no PUBREL beside it [MQTT-4.4.0-1] [MQTT-4.3.3-10]`, {
      timeout: 60_000
    }, async t => {
      // A window of one: the new message waits for the PUBCOMP and goes the moment it comes. A commit
      // window of 50 ms keeps the PUBREL's deletion uncommitted for that long.
      const run = setUp(t, { protocolVersion: v.protocolVersion, window: 1, commitWindowMs: 50 })
      let broker = await run.start()
      const sub = await run.peer(broker, 'ids-freed', 'persistent')
      await subscribe(sub, [
        { topic: 'ids/plain', qos: 2 },
        { topic: '$share/g/ids/shared', qos: 2 }
      ])
      const pub = await run.publisher(broker)
      await pub.publishAsync('ids/plain', 'e1', { qos: 2 })
      const e1 = await waitPublish(sub, 'e1')
      await complete(sub, idOf(e1))
      await pub.publishAsync('ids/shared', 's', { qos: 2 })
      const s = await waitPublish(sub, 's')
      assert.equal(idOf(s), idOf(e1) + 1, "precondition: the group's delivery holds the id the next entry's place gives")
      const from = sub.packets.length
      sub.send({ cmd: 'pubrec', messageId: idOf(s) })
      await sub.waitFor('PUBREL of s', p => p.cmd === 'pubrel' && p.messageId === idOf(s) && sub.packets.indexOf(p) >= from)
      await pub.publishAsync('ids/plain', 'e2', { qos: 2 }) // stored; waits for the window
      sub.send({ cmd: 'pubcomp', messageId: idOf(s) })
      const e2 = await waitPublish(sub, 'e2')
      await broker.kill()
      sub.destroy()

      broker = await run.start()
      const back = await run.peer(broker, 'ids-freed', 'persistent')
      assert.equal(back.connack.sessionPresent, true)
      const first = await back.waitFor<Publish | mqttPacket.IPubrelPacket>('a PUBLISH or PUBREL', p => p.cmd === 'publish' || p.cmd === 'pubrel', 10_000)
      assert.equal(first.cmd, 'publish', `no PUBREL of the completed exchange ${idOf(s)}: the client would take it for e2's and release e2`)
      assert.deepEqual([String(first.payload), idOf(first as Publish), (first as Publish).dup], ['e2', idOf(e2), true], 'e2 again under its id [MQTT-4.4.0-1]')
      await complete(back, idOf(e2))
      await holdsFor(
        'e2 once, no PUBREL but its own',
        () => {
          const pubrels = back.packets.filter(p => p.cmd === 'pubrel').map(p => p.messageId)
          return publishesOf(back, 'e2').length === 1 && pubrels.every(id => id === idOf(e2))
        },
        WATCH_MS
      )
    })

    test(`${v.name}: a restored PUBREL's id that PUBCOMP frees is not given to a group's delivery before its deletion commits [MQTT-4.4.0-1] [MQTT-4.3.3-10]`, {
      timeout: 60_000
    }, async t => {
      const run = setUp(t, { protocolVersion: v.protocolVersion, window: 1, commitWindowMs: 50 })
      let broker = await run.start()
      const sub = await run.peer(broker, 'ids-shared', 'persistent')
      await subscribe(sub, [{ topic: GROUP, qos: 2 }])
      let pub = await run.publisher(broker)
      await pub.publishAsync('sh/x', 's1', { qos: 2 })
      const s1 = await waitPublish(sub, 's1')
      sub.send({ cmd: 'pubrec', messageId: idOf(s1) })
      await sub.waitFor('PUBREL of s1', p => p.cmd === 'pubrel' && p.messageId === idOf(s1))
      await broker.kill()
      sub.destroy()

      // After the restart the PUBREL fills the window; the next delivery waits for its PUBCOMP.
      broker = await run.start()
      const mid = await run.peer(broker, 'ids-shared', 'persistent')
      await mid.waitFor('PUBREL of s1 again', p => p.cmd === 'pubrel' && p.messageId === idOf(s1), 10_000)
      pub = await run.publisher(broker)
      await pub.publishAsync('sh/x', 's2', { qos: 2 })
      mid.send({ cmd: 'pubcomp', messageId: idOf(s1) })
      const s2 = await waitPublish(mid, 's2')
      await broker.kill()
      mid.destroy()

      broker = await run.start()
      const back = await run.peer(broker, 'ids-shared', 'persistent')
      const first = await back.waitFor<Publish | mqttPacket.IPubrelPacket>('a PUBLISH or PUBREL', p => p.cmd === 'publish' || p.cmd === 'pubrel', 10_000)
      assert.equal(first.cmd, 'publish', `no PUBREL of the completed exchange ${idOf(s1)}`)
      assert.deepEqual(
        [String(first.payload), idOf(first as Publish), (first as Publish).dup],
        ['s2', idOf(s2), true],
        's2 again, to its member, under its id [MQTT-4.4.0-1] [MQTT-4.8.2-4]'
      )
      await complete(back, idOf(s2))
      await holdsFor('s2 once', () => publishesOf(back, 's2').length === 1, WATCH_MS)
    })
  }
})

describe('shared subscriptions: a QoS 2 delivery stays with its member [MQTT-4.8.2-4] [MQTT-4.8.2-5]', { timeout: 300_000 }, () => {
  for (const v of VERSIONS) {
    test(`${v.name}: the member's connection breaks: QoS 1 goes to another member, QoS 2 waits and is resent to it under its id when it returns [MQTT-4.8.2-4] [MQTT-4.4.0-1]`, {
      timeout: 60_000
    }, async t => {
      const run = setUp(t, { protocolVersion: v.protocolVersion, window: 10 })
      const broker = await run.start()
      const a = await run.peer(broker, 'member-a', 'persistent')
      await subscribe(a, [{ topic: GROUP, qos: 2 }])
      const pub = await run.publisher(broker)
      await pub.publishAsync('sh/x', 'two', { qos: 2 })
      await pub.publishAsync('sh/x', 'one', { qos: 1 })
      const two = await waitPublish(a, 'two')
      await waitPublish(a, 'one')
      const b = await run.peer(broker, 'member-b', 'clean')
      await subscribe(b, [{ topic: GROUP, qos: 2 }])
      a.destroy() // no PUBREC, no PUBACK
      const one = await waitPublish(b, 'one')
      b.send({ cmd: 'puback', messageId: idOf(one) })
      await holdsFor('the QoS 2 message does not go to the other member', () => publishesOf(b, 'two').length === 0, WATCH_MS)

      const back = await run.peer(broker, 'member-a', 'persistent')
      assert.equal(back.connack.sessionPresent, true)
      const again = await waitPublish(back, 'two')
      assert.deepEqual([idOf(again), again.dup], [idOf(two), true])
      await complete(back, idOf(two))
      await holdsFor('nothing of it for the other member', () => publishesOf(b, 'two').length === 0, WATCH_MS)
      await eventually('the group queue is empty', async () => {
        const q = await groupQueue(broker)
        return q.messages === 0 && q.unacked === 0
      })
    })

    test(`${v.name}: the member's session ends before it returns: its QoS 2 message goes to no other member [MQTT-4.8.2-5]`, {
      timeout: 60_000
    }, async t => {
      const run = setUp(t, { protocolVersion: v.protocolVersion, window: 10 })
      const broker = await run.start()
      // MQTT 5: a session that expires a second after the connection breaks; 3.1.1: a clean session, ended with it.
      const a = await run.peer(broker, 'member-a', v.protocolVersion === 5 ? { expirySeconds: 1 } : 'clean')
      await subscribe(a, [{ topic: GROUP, qos: 2 }])
      const b = await run.peer(broker, 'member-b', 'clean')
      const pub = await run.publisher(broker)
      // a is the only member yet: it gets the message.
      await pub.publishAsync('sh/x', 'two', { qos: 2 })
      await waitPublish(a, 'two')
      await subscribe(b, [{ topic: GROUP, qos: 2 }])
      a.destroy()
      await eventually('the group queue is empty', async () => {
        const q = await groupQueue(broker)
        return q.messages === 0 && q.unacked === 0
      })
      await pub.publishAsync('sh/x', 'next', { qos: 2 })
      await complete(b, idOf(await waitPublish(b, 'next')))
      assert.deepEqual(publishesOf(b, 'two'), [], "the ended member's QoS 2 message never reached another member")
    })

    test(`${v.name}: SIGKILL with QoS 2 and QoS 1 in flight to a persistent member: after the restart QoS 1 may go to another member, QoS 2 only to its member, under its id [MQTT-4.8.2-4] [MQTT-4.4.0-1]`, {
      timeout: 60_000
    }, async t => {
      const run = setUp(t, { protocolVersion: v.protocolVersion, window: 10 })
      let broker = await run.start()
      const a = await run.peer(broker, 'member-a', 'persistent')
      await subscribe(a, [{ topic: GROUP, qos: 2 }])
      const pub = await run.publisher(broker)
      await pub.publishAsync('sh/x', 'two', { qos: 2 })
      await pub.publishAsync('sh/x', 'one', { qos: 1 })
      const two = await waitPublish(a, 'two')
      await waitPublish(a, 'one')
      await broker.kill()
      a.destroy()

      broker = await run.start()
      // Another member is there first, and the group gives it what it has.
      const b = await run.peer(broker, 'member-b', 'clean')
      await subscribe(b, [{ topic: GROUP, qos: 2 }])
      const one = await waitPublish(b, 'one')
      b.send({ cmd: 'puback', messageId: idOf(one) })
      await holdsFor('the QoS 2 message does not go to the other member', () => publishesOf(b, 'two').length === 0, WATCH_MS)

      const back = await run.peer(broker, 'member-a', 'persistent')
      assert.equal(back.connack.sessionPresent, true)
      const again = await waitPublish(back, 'two')
      assert.deepEqual([idOf(again), again.dup], [idOf(two), true], 'resent to its member under its id, DUP')
      await complete(back, idOf(two))
      await holdsFor(
        'once, and nothing of it for the other member',
        () => publishesOf(b, 'two').length === 0 && publishesOf(back, 'two').length === 1,
        WATCH_MS
      )
      await eventually('the group queue is empty', async () => {
        const q = await groupQueue(broker)
        return q.messages === 0 && q.unacked === 0
      })
    })

    test(`${v.name}: SIGKILL with QoS 2 in flight to a member whose session ends with its connection: after the restart no other member gets it [MQTT-4.8.2-5]`, {
      timeout: 60_000
    }, async t => {
      const run = setUp(t, { protocolVersion: v.protocolVersion, window: 10 })
      let broker = await run.start()
      const a = await run.peer(broker, 'member-a', 'clean')
      await subscribe(a, [{ topic: GROUP, qos: 2 }])
      let pub = await run.publisher(broker)
      await pub.publishAsync('sh/x', 'two', { qos: 2 })
      await waitPublish(a, 'two')
      await broker.kill()
      a.destroy()

      broker = await run.start()
      const b = await run.peer(broker, 'member-b', 'clean')
      await subscribe(b, [{ topic: GROUP, qos: 2 }])
      await eventually('the group queue is empty', async () => {
        const q = await groupQueue(broker)
        return q.messages === 0 && q.unacked === 0
      })
      pub = await run.publisher(broker)
      await pub.publishAsync('sh/x', 'next', { qos: 2 })
      await complete(b, idOf(await waitPublish(b, 'next')))
      assert.deepEqual(publishesOf(b, 'two'), [], "the ended member's QoS 2 message never reached another member")
    })
  }
})
