// The uplink's packet ids as a state machine: ids named by seqs, resends with DUP or PUBREL only,
// clashes held in order, ids an earlier link left released first. The link's acks are fed as the
// packets mqtt.js reports ('packetreceive'); what goes out is recorded.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { MqttClient } from 'mqtt'
import type mqttPacket from 'mqtt-packet'
import { UplinkPacketIds, type UplinkSend } from './mqtt-uplink-ids.ts'
import { packetIdOfSeq } from '../../mqtt/packet-id-of-seq.ts'

interface FakeLink {
  readonly client: MqttClient
  /** 'publish <id> dup=<0|1>' and 'pubrel <id>', in order. */
  readonly out: string[]
  ack(cmd: 'puback' | 'pubrec' | 'pubcomp', messageId: number, reasonCode?: number): void
}

function fakeLink(): FakeLink {
  const out: string[] = []
  const emitter = new EventEmitter()
  const stream = { write: (buf: Buffer) => out.push(`pubrel ${buf.readUInt16BE(2)}`) }
  Object.assign(emitter, { stream })
  return {
    client: emitter as unknown as MqttClient,
    out,
    ack: (cmd, messageId, reasonCode) => emitter.emit('packetreceive', { cmd, messageId, reasonCode } as mqttPacket.Packet)
  }
}

function sender(link: FakeLink, seq: number, qos: 1 | 2, redelivered: boolean, confirmed: number[]): UplinkSend {
  return {
    seq,
    qos,
    redelivered,
    publish: (id, dup) => void link.out.push(`publish ${id} dup=${dup ? 1 : 0}`),
    confirmed: () => void confirmed.push(seq)
  }
}

const tick = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

test('an id is named by the seq, the same across links: PUBLISH again with DUP, or PUBREL only once PUBREC came', () => {
  assert.equal(packetIdOfSeq(1), 2)
  assert.equal(packetIdOfSeq(65_534), 65_535)
  assert.equal(packetIdOfSeq(65_535), 1)
  const ids = new UplinkPacketIds()
  const confirmed: number[] = []
  const a = fakeLink()
  ids.attach(a.client, false, 5)
  for (const seq of [10, 11]) ids.send(sender(a, seq, 2, false, confirmed))
  a.ack('pubrec', 12) // seq 11: the remote has it
  assert.deepEqual(a.out, ['publish 11 dup=0', 'publish 12 dup=0'])
  ids.detach(a.client)
  const b = fakeLink()
  ids.attach(b.client, true, 5)
  for (const seq of [10, 11, 12]) ids.send(sender(b, seq, 2, true, confirmed))
  assert.deepEqual(b.out, ['publish 11 dup=1', 'pubrel 12', 'publish 13 dup=1'])
  b.ack('pubcomp', 12, 0x92)
  assert.deepEqual(confirmed, [11], 'a PUBREL-only resend is confirmed by its PUBCOMP, whatever its reason code')
})

test('a new session at the remote forgets every exchange: PUBLISH again, DUP as the entry says', () => {
  const ids = new UplinkPacketIds()
  const a = fakeLink()
  ids.attach(a.client, true, 5)
  ids.send(sender(a, 5, 2, false, []))
  a.ack('pubrec', 6)
  const b = fakeLink()
  ids.attach(b.client, false, 5)
  ids.send(sender(b, 5, 2, true, []))
  ids.send(sender(b, 6, 1, false, []))
  assert.deepEqual(b.out, ['publish 6 dup=1', 'publish 7 dup=0'])
})

test('a clash with an exchange in flight holds that send and the ones after it, in order, until its ack', async () => {
  const ids = new UplinkPacketIds()
  const a = fakeLink()
  ids.attach(a.client, true, 5)
  ids.send(sender(a, 1, 1, false, []))
  ids.send(sender(a, 65_536, 1, false, [])) // id 2 again
  ids.send(sender(a, 65_537, 1, false, [])) // id 3 is free, but goes after the held one
  assert.deepEqual(a.out, ['publish 2 dup=0'])
  a.ack('puback', 2)
  assert.deepEqual(a.out, ['publish 2 dup=0'], 'not before mqtt.js handled the ack')
  await tick()
  assert.deepEqual(a.out, ['publish 2 dup=0', 'publish 2 dup=0', 'publish 3 dup=0'])
})

test('an id an earlier link left open for another entry: QoS 2 released with PUBREL first, QoS 1 taken at once', async () => {
  const ids = new UplinkPacketIds()
  const a = fakeLink()
  ids.attach(a.client, true, 5)
  ids.send(sender(a, 1, 2, false, [])) // id 2, its entry then dropped
  ids.send(sender(a, 2, 1, false, [])) // id 3, its entry then dropped
  const b = fakeLink()
  ids.attach(b.client, true, 5)
  ids.send(sender(b, 65_536, 2, false, [])) // id 2
  ids.send(sender(b, 65_537, 2, false, [])) // id 3
  assert.deepEqual(b.out, ['pubrel 2'])
  b.ack('pubcomp', 2)
  await tick()
  assert.deepEqual(b.out, ['pubrel 2', 'publish 2 dup=0', 'publish 3 dup=0'])
})

test('a queue declared anew: its seqs name new messages, which take the old ids only after their release', async () => {
  const ids = new UplinkPacketIds()
  const a = fakeLink()
  ids.attach(a.client, true, 5)
  ids.send(sender(a, 1, 2, false, []))
  a.ack('pubrec', 2)
  ids.queueReplaced()
  const b = fakeLink()
  ids.attach(b.client, true, 5)
  const confirmed: number[] = []
  ids.send(sender(b, 1, 2, false, confirmed))
  assert.deepEqual(b.out, ['pubrel 2'], 'not taken for the old message (whose PUBREL only would confirm it unsent)')
  b.ack('pubcomp', 2)
  await tick()
  assert.deepEqual(b.out, ['pubrel 2', 'publish 2 dup=0'])
  assert.deepEqual(confirmed, [])
})

test("mqtt.js's provider: a PUBLISH takes the id directed, a SUBSCRIBE one no open exchange holds", () => {
  const ids = new UplinkPacketIds()
  const a = fakeLink()
  ids.attach(a.client, true, 5)
  ids.send(sender(a, 0, 1, false, [])) // id 1 open
  const provider = ids.provider()
  assert.equal(provider.allocate(), 2)
  provider.direct(1)
  assert.equal(provider.allocate(), 1)
  assert.equal(provider.takeUnused(), null)
  provider.direct(7)
  assert.equal(provider.takeUnused(), 7, 'not taken: the PUBLISH did not go')
  assert.equal(provider.register(1), false)
  assert.equal(provider.register(3), true)
  assert.equal(provider.allocate(), 4)
})
