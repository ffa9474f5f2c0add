// Helpers for the codec's tests: hand-built packets (valid or not) and a reader that collects.

import mqttPacket from 'mqtt-packet'
import type { MqttCodecError } from './codec-error.ts'
import type { InboundPacket } from './inbound-packet.ts'
import { MqttPacketReader, type MqttPacketReaderOptions } from './packet-reader.ts'

export function varint(n: number): number[] {
  const out: number[] = []
  do {
    const b = n % 128
    n = Math.floor(n / 128)
    out.push(n > 0 ? b | 0x80 : b)
  } while (n > 0)
  return out
}

type Part = Buffer | number[]

function bytes(parts: Part[]): Buffer {
  return Buffer.concat(parts.map(p => (Buffer.isBuffer(p) ? p : Buffer.from(p))))
}

/** A UTF-8 string (or raw bytes) with its 2-byte length. */
export function str(s: string | Buffer | number[]): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : Buffer.from(s)
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b])
}

/** A packet: first byte, Remaining Length, then the parts. */
export function packet(first: number, ...parts: Part[]): Buffer {
  const body = bytes(parts)
  return Buffer.concat([Buffer.from([first, ...varint(body.length)]), body])
}

/** A property section: Property Length, then the properties. */
export function props(...parts: Part[]): Buffer {
  const body = bytes(parts)
  return Buffer.concat([Buffer.from(varint(body.length)), body])
}

export const prop = {
  byte: (id: number, v: number): Buffer => Buffer.from([id, v]),
  u16: (id: number, v: number): Buffer => Buffer.from([id, v >> 8, v & 0xff]),
  u32: (id: number, v: number): Buffer => {
    const b = Buffer.alloc(5)
    b[0] = id
    b.writeUInt32BE(v, 1)
    return b
  },
  varint: (id: number, v: number): Buffer => Buffer.from([id, ...varint(v)]),
  str: (id: number, s: string | number[]): Buffer => Buffer.concat([Buffer.from([id]), str(s)]),
  bin: (id: number, b: Buffer): Buffer => Buffer.concat([Buffer.from([id]), str(b)]),
  user: (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x26]), str(name), str(value)])
}

export function connectPacket(version: 3 | 4 | 5): Buffer {
  return mqttPacket.generate({ cmd: 'connect', clientId: 'c1', protocolVersion: version, protocolId: version === 3 ? 'MQIsdp' : 'MQTT' })
}

export interface Collected {
  packets: InboundPacket[]
  errors: MqttCodecError[]
  reader: MqttPacketReader
}

/** A reader fed these chunks in order, with what it delivered. */
export function readChunks(chunks: Buffer[], opts: Partial<MqttPacketReaderOptions> = {}): Collected {
  const packets: InboundPacket[] = []
  const errors: MqttCodecError[] = []
  const reader = new MqttPacketReader({
    maxPacketBytes: 1 << 20,
    ...opts,
    onPacket: p => {
      packets.push(p)
    },
    onError: e => {
      errors.push(e)
    }
  })
  for (const c of chunks) reader.feed(c)
  return { packets, errors, reader }
}

/** Server side: a CONNECT of that version, then `rest` in one chunk; returns what followed the CONNECT. */
export function afterConnect(version: 3 | 4 | 5, ...rest: Buffer[]): Collected {
  const got = readChunks([connectPacket(version), Buffer.concat(rest)])
  got.packets.shift()
  return got
}

/** The one error a server reader reports for `rest` after a CONNECT, with its reason and message. */
export function errorAfterConnect(version: 3 | 4 | 5, ...rest: Buffer[]): MqttCodecError {
  const got = afterConnect(version, ...rest)
  const err = got.errors[0]
  if (got.errors.length !== 1 || err === undefined) throw new Error(`expected one error, got ${got.errors.length} and ${got.packets.length} packets`)
  return err
}
