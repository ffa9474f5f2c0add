// A QoS 1 PUBLISH the broker sent to a persistent session just before a SIGKILL may have reached the
// client, so the restarted broker must send it again with DUP=1 [MQTT-3.3.1-1]. The "delivered" mark
// of a queue entry used to be committed lazily, after the PUBLISH left: a kill inside the commit
// window brought the entry back as never delivered, re-sent with DUP=0. The broker is a child
// process; the subscriber a raw peer that reads every PUBLISH (and its DUP flag) and never acks.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type mqttPacket from 'mqtt-packet'
import { startBrokerProcess, type BrokerProcess } from './support/broker-process.ts'
import { rawConnect5, type RawPeer } from './support/raw-mqtt.ts'
import { connect, end } from './support/mqtt-helpers.ts'

/** Messages queued for the session while it is away; all fit in its window, so all are sent at once. */
const N = 20
const TOPIC = 'dup-after-crash/data'
const CLIENT_ID = 'dup-after-crash-sub'

const STORAGES = [
  { name: 'commits every event-loop turn (default)', commitWindowMs: 0 },
  // A delivered mark committed after its PUBLISH left is lost to a kill inside this window.
  { name: 'group-commit window of 50 ms', commitWindowMs: 50 }
]
const VERSIONS = [
  { name: 'MQTT 5', protocolVersion: 5 as const },
  { name: 'MQTT 3.1.1', protocolVersion: 4 as const }
]

/** The subscriber's persistent session (Clean Start 0; MQTT 5: a Session Expiry Interval). */
async function connectSubscriber(broker: BrokerProcess, protocolVersion: 4 | 5): Promise<RawPeer & { connack: mqttPacket.IConnackPacket }> {
  const session = protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}
  return await rawConnect5(broker.ports.mqtt, { protocolVersion, clientId: CLIENT_ID, clean: false, ...session })
}

/** Resolves (in the parser's callback, so a kill that follows is at once) when N PUBLISHes came in. */
async function publishesOf(peer: RawPeer): Promise<mqttPacket.IPublishPacket[]> {
  const all = (): mqttPacket.IPublishPacket[] => peer.packets.filter((p): p is mqttPacket.IPublishPacket => p.cmd === 'publish')
  await peer.waitFor(`${N} PUBLISHes`, () => all().length >= N, 10_000)
  return all()
}

describe('QoS 1 PUBLISHes sent before a SIGKILL and not acked come back with DUP=1 [MQTT-3.3.1-1]', { timeout: 180_000 }, () => {
  for (const storage of STORAGES) {
    for (const version of VERSIONS) {
      test(`${version.name}, ${storage.name}: ${N} sent, killed, every one re-sent with DUP=1`, { timeout: 60_000 }, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'wharf-dup-crash-'))
        const configFile = join(dir, 'wharf.yaml')
        writeFileSync(configFile, `storage:\n  commitWindowMs: ${storage.commitWindowMs}\n`)
        const started: BrokerProcess[] = []
        const start = async (): Promise<BrokerProcess> => {
          const broker = await startBrokerProcess(join(dir, 'data'), {}, ['--config', configFile])
          started.push(broker)
          return broker
        }
        try {
          let broker = await start()
          const subscribing = await connectSubscriber(broker, version.protocolVersion)
          subscribing.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: TOPIC, qos: 1 }] })
          await subscribing.waitFor('SUBACK', p => p.cmd === 'suback')
          subscribing.send({ cmd: 'disconnect' })
          await subscribing.waitClosed()

          // Queued while the session is away: stored and PUBACKed, so the later deliveries are of stored entries.
          const publisher = await connect(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: 'dup-after-crash-pub' })
          const sent = Array.from({ length: N }, (_, i) => `m${i}`)
          for (const payload of sent) await publisher.publishAsync(TOPIC, payload, { qos: 1 })
          await end(publisher)

          const before = await connectSubscriber(broker, version.protocolVersion)
          const first = await publishesOf(before)
          await broker.kill() // no PUBACK was sent: all N are in flight
          before.destroy()
          assert.deepEqual(
            first.map(p => [String(p.payload), p.dup]),
            sent.map(payload => [payload, false]),
            'the first delivery is not a resend'
          )

          broker = await start()
          const after = await connectSubscriber(broker, version.protocolVersion)
          assert.equal(after.connack.sessionPresent, true, 'the session survived the kill')
          const again = await publishesOf(after)
          const withoutDup = again.filter(p => !p.dup).map(p => String(p.payload))
          assert.deepEqual(withoutDup, [], `${withoutDup.length} of ${again.length} re-sent PUBLISHes without DUP=1`)
          assert.deepEqual(
            again.map(p => [String(p.payload), p.qos, p.messageId]),
            first.map(p => [String(p.payload), 1, p.messageId]),
            'the same messages, in order, under the same packet ids [MQTT-4.4.0-1]'
          )
          after.destroy()
        } finally {
          await Promise.all(started.map(b => b.kill()))
          rmSync(dir, { recursive: true, force: true })
        }
      })
    }
  }
})
