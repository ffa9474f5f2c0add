// PUBLISH and the acks are decoded by hand; they must come out exactly as mqtt-packet decodes them.
// Seeded random packets, each decoded both ways and compared.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import type { Packet } from 'mqtt-packet'
import type { InboundPacket } from './inbound-packet.ts'
import { connectPacket, readChunks } from './test-wire.ts'

/** mulberry32: a small seeded generator, so a failure reproduces. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Plain data for deepEqual: no prototypes, Buffers as hex, our extra fields left out. */
function plain(x: unknown): unknown {
  if (Buffer.isBuffer(x)) return `hex:${x.toString('hex')}`
  if (Array.isArray(x)) return x.map(plain)
  if (x !== null && typeof x === 'object') {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(x).sort()) if (k !== 'userPropertiesOrdered') out[k] = plain((x as Record<string, unknown>)[k])
    return out
  }
  return x
}

function viaMqttPacket(bytes: Buffer, protocolVersion: number): Packet {
  const parser = mqttPacket.parser({ protocolVersion })
  const out: Packet[] = []
  parser.on('packet', (p: Packet) => out.push(p))
  parser.on('error', (e: Error) => {
    throw e
  })
  parser.parse(bytes)
  assert.equal(out.length, 1)
  return out[0] as Packet
}

function viaReader(bytes: Buffer, protocolVersion: 3 | 4 | 5, role: 'server' | 'client'): InboundPacket {
  const chunks =
    role === 'server'
      ? [connectPacket(protocolVersion), bytes]
      : [mqttPacket.generate({ cmd: 'connack', sessionPresent: false, returnCode: 0, reasonCode: 0 }, { protocolVersion }), bytes]
  const got = readChunks(chunks, role === 'client' ? { role, protocolVersion } : {})
  assert.deepEqual(got.errors, [])
  assert.equal(got.packets.length, 2)
  return got.packets[1] as InboundPacket
}

const WORDS = ['a', 'temp', 'ü', '€uro', 'x y', '𝄞', 'k1', 'ok']

function randomPublish(r: () => number, v: 3 | 4 | 5, fromServer: boolean): Record<string, unknown> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  const qos = pick([0, 1, 2] as const)
  const properties: Record<string, unknown> = {}
  if (v === 5) {
    if (r() < 0.3) properties.payloadFormatIndicator = r() < 0.5
    if (r() < 0.3) properties.messageExpiryInterval = Math.floor(r() * 0xffffffff)
    if (r() < 0.3) properties.topicAlias = 1 + Math.floor(r() * 0xfffe)
    if (r() < 0.3) properties.responseTopic = `${pick(WORDS)}/${pick(WORDS)}`
    if (r() < 0.3) properties.correlationData = Buffer.from(pick(WORDS))
    if (r() < 0.3) properties.contentType = pick(WORDS)
    if (r() < 0.4) {
      const user: Record<string, string | string[]> = {}
      for (let i = 0; i < 1 + r() * 4; i++) user[pick(WORDS)] = r() < 0.3 ? [pick(WORDS), pick(WORDS)] : pick(WORDS)
      properties.userProperties = user
    }
    if (fromServer && r() < 0.4)
      properties.subscriptionIdentifier = r() < 0.5 ? 1 + Math.floor(r() * 268435454) : [1, 128, 16384, 2097152, 268435455].slice(0, 1 + Math.floor(r() * 5))
  }
  const payloadBytes = pick([0, 1, 10, 127, 128, 300])
  return {
    cmd: 'publish',
    topic: `${pick(WORDS)}/${pick(WORDS)}`,
    payload: Buffer.alloc(payloadBytes, Math.floor(r() * 256)),
    qos,
    retain: r() < 0.5,
    dup: qos > 0 && r() < 0.5,
    ...(qos > 0 ? { messageId: 1 + Math.floor(r() * 65535) } : {}),
    ...(Object.keys(properties).length > 0 ? { properties } : {})
  }
}

test('PUBLISH: 600 seeded random packets decode exactly as mqtt-packet decodes them', () => {
  const r = random(20240531)
  for (let i = 0; i < 600; i++) {
    const v = ([3, 4, 5] as const)[i % 3] as 3 | 4 | 5
    const fromServer = i % 2 === 0
    const spec = randomPublish(r, v, fromServer)
    const bytes = mqttPacket.generate(spec as unknown as Packet, { protocolVersion: v })
    const ours = viaReader(bytes, v, fromServer ? 'client' : 'server')
    assert.deepEqual(plain(ours), plain(viaMqttPacket(bytes, v)), `#${i} v${v} ${JSON.stringify(plain(spec))}`)
  }
})

test('PUBACK, PUBREC, PUBREL, PUBCOMP decode exactly as mqtt-packet decodes them', () => {
  const cases: Array<[Record<string, unknown>, 4 | 5]> = []
  for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp']) {
    const failure = cmd === 'puback' || cmd === 'pubrec' ? 0x97 : 0x92
    cases.push([{ cmd, messageId: 7 }, 4])
    cases.push([{ cmd, messageId: 7, reasonCode: 0 }, 5])
    cases.push([{ cmd, messageId: 65535, reasonCode: failure }, 5])
    cases.push([{ cmd, messageId: 1, reasonCode: failure, properties: { reasonString: 'why' } }, 5])
    cases.push([{ cmd, messageId: 2, reasonCode: 0, properties: { userProperties: { a: ['1', '2'], b: 'x' }, reasonString: 'r' } }, 5])
  }
  for (const [spec, v] of cases) {
    const bytes = mqttPacket.generate(spec as unknown as Packet, { protocolVersion: v })
    for (const role of ['server', 'client'] as const) {
      assert.deepEqual(plain(viaReader(bytes, v, role)), plain(viaMqttPacket(bytes, v)), `${JSON.stringify(spec)} v${v}`)
    }
  }
})

test('an ack of Remaining Length 3 (Reason Code, no Property Length) decodes as mqtt-packet does', () => {
  const bytes = Buffer.from([0x40, 0x03, 0x00, 0x09, 0x10])
  assert.deepEqual(plain(viaReader(bytes, 5, 'server')), plain(viaMqttPacket(bytes, 5)))
})
