// QoS 2 inbound, killed right after PUBCOMP: once the client has the PUBCOMP it may reuse the packet
// id for a new message, which the broker must take as new [MQTT-4.3.3-12], also after a restart. So
// the receipt of the id (kept so a resent PUBLISH is not routed twice [MQTT-4.3.3-10]) must be deleted,
// committed, before the PUBCOMP leaves: one a SIGKILL leaves behind turns the new message into a
// "resend" that is PUBRECed and dropped. The broker is a child process, the publisher a raw peer that
// picks its own packet ids, the reader a persistent session that reads after the last restart.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type mqttPacket from 'mqtt-packet'
import { startBrokerProcess, type BrokerProcess } from './support/broker-process.ts'
import { rawConnect5, type RawPeer } from './support/raw-mqtt.ts'
import { collector, connect, end, settled } from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'

const ROUNDS = 4
/** Packet ids used in every round, before the kill and again after it. */
const IDS = Array.from({ length: 20 }, (_, i) => 101 + i)
const TOPIC = 'qos2-reuse/data'

/** How the broker commits: each event-loop turn (the default) or a group-commit window. */
const STORAGES = [
  { name: 'commits every event-loop turn (default)', commitWindowMs: 0 },
  // A PUBCOMP that left before its receipt's deletion committed is caught by a kill inside this window.
  { name: 'group-commit window of 50 ms', commitWindowMs: 50 }
]
const VERSIONS = [
  { name: 'MQTT 5', protocolVersion: 5 as const },
  { name: 'MQTT 3.1.1', protocolVersion: 4 as const }
]

/** The publisher's persistent session (Clean Start 0; MQTT 5: a Session Expiry Interval). */
async function connectPublisher(broker: BrokerProcess, protocolVersion: 4 | 5): Promise<RawPeer & { connack: mqttPacket.IConnackPacket }> {
  const session = protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}
  return await rawConnect5(broker.ports.mqtt, { protocolVersion, clientId: 'qos2-reuse-pub', clean: false, ...session })
}

/**
 * PUBLISH QoS 2 for every id, then PUBREL each once all PUBRECs are in; resolves at the PUBCOMP of the
 * last id (the acks come in order), so a kill that follows lands right after the PUBCOMPs left.
 */
async function qos2Exchange(peer: RawPeer, payloadOf: (id: number) => string): Promise<void> {
  const from = peer.packets.length
  const since = (cmd: string): mqttPacket.Packet[] => peer.packets.slice(from).filter(p => p.cmd === cmd)
  for (const id of IDS) peer.send({ cmd: 'publish', topic: TOPIC, payload: payloadOf(id), qos: 2, messageId: id, dup: false, retain: false })
  await eventually(`${IDS.length} PUBRECs`, () => since('pubrec').length >= IDS.length || peer.isClosed(), 10_000)
  assert.deepEqual(
    since('pubrec').map(p => [p.messageId, (p as mqttPacket.IPubrecPacket).reasonCode ?? 0]),
    IDS.map(id => [id, 0])
  )
  for (const id of IDS) peer.send({ cmd: 'pubrel', messageId: id })
  const last = IDS.at(-1)
  // waitFor settles in the parser's callback: the caller's kill follows without a polling delay
  await peer.waitFor('the last PUBCOMP', p => p.cmd === 'pubcomp' && p.messageId === last && peer.packets.indexOf(p) >= from, 10_000)
  assert.deepEqual(
    since('pubcomp').map(p => [p.messageId, (p as mqttPacket.IPubcompPacket).reasonCode ?? 0]),
    IDS.map(id => [id, 0]) // [MQTT-4.3.3-11]
  )
}

describe('QoS 2: a packet id reused after a PUBCOMP and a SIGKILL is a new message [MQTT-4.3.3-12]', { timeout: 240_000 }, () => {
  for (const storage of STORAGES) {
    for (const version of VERSIONS) {
      test(`${version.name}, ${storage.name}: ${ROUNDS} rounds of ${IDS.length} ids, each killed after its PUBCOMPs; the reader gets every message once`, {
        timeout: 120_000
      }, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'wharf-qos2-reuse-'))
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
          const url = (): string => `mqtt://127.0.0.1:${broker.ports.mqtt}`
          const reader = await connect(url(), { clientId: 'qos2-reuse-reader', clean: false })
          await reader.subscribeAsync(TOPIC, { qos: 2 })
          await end(reader)
          const expected: string[] = []
          for (let round = 0; round < ROUNDS; round++) {
            const before = await connectPublisher(broker, version.protocolVersion)
            await qos2Exchange(before, id => `${round}/before-kill/${id}`)
            await broker.kill()
            before.destroy()
            broker = await start()
            const after = await connectPublisher(broker, version.protocolVersion)
            assert.equal(after.connack.sessionPresent, true, 'the publisher session survived the kill')
            // the same ids, new messages: each must be routed, not taken for a resend
            await qos2Exchange(after, id => `${round}/after-restart/${id}`)
            after.send({ cmd: 'disconnect' })
            await after.waitClosed()
            for (const id of IDS) expected.push(`${round}/before-kill/${id}`, `${round}/after-restart/${id}`)
          }
          const back = await connect(url(), { clientId: 'qos2-reuse-reader', clean: false })
          const got = collector(back)
          await settled(back, 10_000) // everything queued for the reader before this has arrived
          const payloads = got.messages.filter(m => m.topic === TOPIC).map(m => m.payload)
          const missing = expected.filter(p => !payloads.includes(p))
          assert.deepEqual(missing, [], `${missing.length} of ${expected.length} PUBCOMPed messages missing`)
          assert.equal(payloads.length, expected.length, 'each message once (QoS 2)')
          await end(back)
        } finally {
          await Promise.all(started.map(b => b.kill()))
          rmSync(dir, { recursive: true, force: true })
        }
      })
    }
  }
})
