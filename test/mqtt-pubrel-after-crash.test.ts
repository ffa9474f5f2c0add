// Outbound QoS 2 between PUBREC and PUBCOMP survives a SIGKILL. At PUBREC the delivered entry leaves
// the session's queue; what is left is the packet id, which the client (method B of §4.3.3) keeps
// until the PUBREL. A broker that forgot it after a restart never sent the PUBREL again, and the
// client took a later PUBLISH under that id for a resend [MQTT-4.4.0-1]. The broker is a child
// process; the subscriber a raw peer that PUBRECs every PUBLISH and is cut with the broker before
// any PUBCOMP; the publisher is mqtt.js.
import { describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type mqttPacket from 'mqtt-packet'
import { brokersOnOneDataDir, type BrokerProcess } from './support/broker-process.ts'
import { rawConnect5, type RawPeer } from './support/raw-mqtt.ts'
import { connect, end } from './support/mqtt-helpers.ts'
import { holdsFor } from './support/wait.ts'

/** Deliveries PUBRECed before the kill; also the subscriber's window, so their PUBRELs fill it after the restart. */
const N = 5
const TOPIC = 'pubrel-after-crash/data'
const CLIENT_ID = 'pubrel-after-crash-sub'
/** How long "no PUBLISH while the window is full" is watched: only a broker that breaks the rule shows it. */
const WINDOW_WATCH_MS = 500

const STORAGES = [
  { name: 'commits every event-loop turn (default)', commitWindowMs: 0 },
  // A PUBREL sent before its packet id committed is lost to a kill inside this window.
  { name: 'group-commit window of 50 ms', commitWindowMs: 50 }
]
const VERSIONS = [
  { name: 'MQTT 5', protocolVersion: 5 as const },
  { name: 'MQTT 3.1.1', protocolVersion: 4 as const }
]
const SUBSCRIPTIONS = [
  // Its packet ids follow the entries' places in the session's queue, which go on after a restart:
  // a new message meets a restored id only when they wrap at 65535.
  { name: 'subscription', filter: TOPIC, idsStartAgain: false },
  // A group's deliveries take ids from 1 again after a restart: the first new one meets the restored ids.
  { name: 'shared subscription', filter: `$share/g/${TOPIC}`, idsStartAgain: true }
]

type Publish = mqttPacket.IPublishPacket

interface Run {
  start(): Promise<BrokerProcess>
  /** The subscriber's persistent session (Clean Start 0), its window N (MQTT 5: Receive Maximum; 3.1.1: mqtt.maxInflightMessages). */
  subscriber(broker: BrokerProcess, clean?: boolean): Promise<RawPeer & { connack: mqttPacket.IConnackPacket }>
  publish(broker: BrokerProcess, payloads: string[]): Promise<void>
}

/** A temp dir, a config with the storage's commit window, and every broker and peer stopped when the test ends. */
function setUp(t: TestContext, commitWindowMs: number, protocolVersion: 4 | 5): Run {
  // Its hook runs first (hooks run in the order added): every broker is down before its directory goes.
  const brokers = brokersOnOneDataDir(t, 'wharf-pubrel-crash-', `storage:\n  commitWindowMs: ${commitWindowMs}\nmqtt:\n  maxInflightMessages: ${N}\n`)
  return {
    async start() {
      const broker = await brokers.start()
      t.after(() => broker.kill())
      return broker
    },
    async subscriber(broker, clean = false) {
      const session = protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600, receiveMaximum: N } } : {}
      const peer = await rawConnect5(broker.ports.mqtt, { protocolVersion, clientId: CLIENT_ID, clean, ...session })
      t.after(() => peer.destroy())
      return peer
    },
    async publish(broker, payloads) {
      const publisher = await connect(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: 'pubrel-after-crash-pub', protocolVersion })
      t.after(() => end(publisher))
      for (const payload of payloads) await publisher.publishAsync(TOPIC, payload, { qos: 2 }) // resolves at its PUBCOMP: stored
      await end(publisher)
    }
  }
}

const publishes = (peer: RawPeer, from = 0): Publish[] => peer.packets.slice(from).filter((p): p is Publish => p.cmd === 'publish')
const pubrelIds = (peer: RawPeer, from = 0): number[] =>
  peer.packets
    .slice(from)
    .filter(p => p.cmd === 'pubrel')
    .map(p => p.messageId ?? 0)

/** The subscription (QoS 2), made and left: the messages published next wait in the session's queue. */
async function subscribe(run: Run, broker: BrokerProcess, filter = TOPIC): Promise<void> {
  const peer = await run.subscriber(broker)
  peer.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 2 }] })
  await peer.waitFor('SUBACK', p => p.cmd === 'suback')
  peer.send({ cmd: 'disconnect' })
  await peer.waitClosed()
}

/** One whole QoS 2 exchange on the subscriber's side for the next PUBLISH of `payload`; returns its packet id. */
async function receiveOnce(peer: RawPeer, payload: string): Promise<number> {
  const p = await peer.waitFor<Publish>(`PUBLISH of ${payload}`, q => q.cmd === 'publish' && String(q.payload) === payload, 10_000)
  const id = p.messageId ?? 0
  assert.equal(p.qos, 2)
  assert.equal(p.dup, false, `${payload} is a new message, not a resend`)
  const from = peer.packets.length
  peer.send({ cmd: 'pubrec', messageId: id })
  await peer.waitFor(`PUBREL ${id}`, q => q.cmd === 'pubrel' && q.messageId === id && peer.packets.indexOf(q) >= from, 10_000)
  peer.send({ cmd: 'pubcomp', messageId: id })
  return id
}

describe('QoS 2 PUBRELs outlive a SIGKILL of the broker [MQTT-4.4.0-1]', { timeout: 240_000 }, () => {
  for (const storage of STORAGES) {
    for (const version of VERSIONS) {
      for (const sub of SUBSCRIPTIONS) {
        test(`${version.name}, ${storage.name}, ${sub.name}: ${N} PUBRECed, killed before PUBCOMP; after the restart a PUBREL for each id, no PUBLISH again, new messages under free ids`, {
          timeout: 60_000
        }, async t => {
          const run = setUp(t, storage.commitWindowMs, version.protocolVersion)
          let broker = await run.start()
          await subscribe(run, broker, sub.filter)
          const old = Array.from({ length: N }, (_, i) => `before-kill/${i}`)
          await run.publish(broker, old)

          const before = await run.subscriber(broker)
          await before.waitFor(`${N} PUBLISHes`, () => publishes(before).length >= N, 10_000)
          const ids = publishes(before).map(p => p.messageId ?? 0)
          assert.deepEqual(
            publishes(before).map(p => String(p.payload)),
            old
          )
          for (const id of ids) before.send({ cmd: 'pubrec', messageId: id })
          // waitFor settles in the parser's callback: the kill follows the last PUBREL without a polling delay
          await before.waitFor('the last PUBREL', p => p.cmd === 'pubrel' && p.messageId === ids.at(-1), 10_000)
          await broker.kill()
          before.destroy()
          assert.deepEqual(pubrelIds(before), ids, 'a PUBREL for each PUBREC, in PUBREC order [MQTT-4.6.0-4]')

          broker = await run.start()
          const after = await run.subscriber(broker)
          assert.equal(after.connack.sessionPresent, true, 'the session survived the kill')
          await after.waitFor(`${N} PUBRELs`, () => pubrelIds(after).length >= N, 10_000)
          assert.deepEqual(pubrelIds(after), ids, 'every PUBREL again, with its original packet id, in order [MQTT-4.4.0-1] [MQTT-4.6.0-4]')

          // The N PUBRELs hold the whole window until their PUBCOMPs (§4.9) [MQTT-3.3.4-9].
          await run.publish(broker, ['after-restart/0'])
          await holdsFor('no PUBLISH while the PUBRELs fill the window', () => publishes(after).length === 0, WINDOW_WATCH_MS)

          // A PUBCOMP frees the last place: the new message goes, under an id that no PUBREL holds. A group's
          // next id is the first restored one: it skips those still waiting, and the one just freed too
          // while the deletion of its stored PUBREL is not committed: a crash would bring that PUBREL back
          // beside the new message, and the client would release the new message with it.
          const stillPending = ids.slice(0, -1)
          const lastId = ids.at(-1) as number
          after.send({ cmd: 'pubcomp', messageId: lastId })
          const first = await receiveOnce(after, 'after-restart/0')
          assert.ok(!stillPending.includes(first), `the new message under ${first}, an id still waiting for its PUBCOMP [MQTT-2.2.1-4]`)
          if (sub.idsStartAgain) assert.notEqual(first, lastId, "the freed packet id waits for its PUBREL's deletion to commit")

          // The rest are released too, and their ids serve new messages.
          for (const id of stillPending) after.send({ cmd: 'pubcomp', messageId: id })
          const fresh = Array.from({ length: N }, (_, i) => `after-restart/${i + 1}`)
          await run.publish(broker, fresh)
          for (const payload of fresh) await receiveOnce(after, payload)
          const resent = publishes(after).filter(p => old.includes(String(p.payload)))
          assert.deepEqual(resent, [], 'no PUBLISH again once its PUBREL was sent [MQTT-4.3.3-6]')

          // PUBCOMP deleted the stored ids: a clean stop and start sends no PUBREL again. The PUBLISH of a
          // new message is sent after any PUBREL a resumed session resends, so its arrival ends the watch.
          after.send({ cmd: 'disconnect' })
          await after.waitClosed()
          assert.equal(await broker.terminate(), 0)
          broker = await run.start()
          const again = await run.subscriber(broker)
          assert.equal(again.connack.sessionPresent, true)
          await run.publish(broker, ['after-stop'])
          await receiveOnce(again, 'after-stop')
          assert.deepEqual(pubrelIds(again).slice(0, -1), [], 'no PUBREL for an exchange its PUBCOMP completed')
        })
      }
    }
  }

  test('MQTT 5, default commit: a Clean Start ends the session and its stored PUBRELs [MQTT-3.1.2-4]', { timeout: 60_000 }, async t => {
    const run = setUp(t, 0, 5)
    let broker = await run.start()
    await subscribe(run, broker)
    await run.publish(broker, ['m0', 'm1'])
    const before = await run.subscriber(broker)
    await before.waitFor('2 PUBLISHes', () => publishes(before).length >= 2, 10_000)
    const ids = publishes(before).map(p => p.messageId ?? 0)
    for (const id of ids) before.send({ cmd: 'pubrec', messageId: id })
    await before.waitFor('the last PUBREL', p => p.cmd === 'pubrel' && p.messageId === ids.at(-1), 10_000)
    await broker.kill()
    before.destroy()

    broker = await run.start()
    const clean = await run.subscriber(broker, true)
    assert.equal(clean.connack.sessionPresent, false)
    assert.deepEqual(pubrelIds(clean), [], 'a new session has no PUBRELs')
    clean.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: TOPIC, qos: 2 }] })
    await clean.waitFor('SUBACK', p => p.cmd === 'suback')
    clean.send({ cmd: 'disconnect' })
    await clean.waitClosed()
    // Killed: the rows went in the commit that ended the session (before the CONNACK), not at a clean stop.
    await broker.kill()

    broker = await run.start()
    const resumed = await run.subscriber(broker)
    assert.equal(resumed.connack.sessionPresent, true)
    await run.publish(broker, ['after-clean-start'])
    await receiveOnce(resumed, 'after-clean-start')
    assert.deepEqual(pubrelIds(resumed).slice(0, -1), [], 'no PUBREL of the ended session')
  })
})
