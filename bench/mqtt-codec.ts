// Microbenchmark of the MQTT codec (adapters/mqtt/codec) beside mqtt-packet alone, on one core:
//   node --import tsx bench/mqtt-codec.ts [packets]
// Not a test and not part of `npm run bench` (that one measures brokers end to end).

import mqttPacket from 'mqtt-packet'
import { MqttPacketReader } from '../adapters/mqtt/codec/packet-reader.ts'
import { encodePacket, encodePublish, type PublishOut } from '../adapters/mqtt/codec/packet-writer.ts'
import { describeMachine } from './machine.ts'

const PER_CHUNK = 64 // packets per socket read, about what a 4 KiB read holds of these
const N = Math.ceil(Number(process.argv[2] ?? 1_000_000) / PER_CHUNK) * PER_CHUNK

function rate(label: string, count: number, run: () => void): void {
  const t0 = process.hrtime.bigint()
  run()
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  console.log(
    `${label.padEnd(52)} ${Math.round(count / seconds)
      .toLocaleString('en-US')
      .padStart(11)} /s`
  )
}

const small: PublishOut = { topic: 'sensors/room1/temp', payload: Buffer.alloc(32, 7), qos: 1, packetId: 7, retain: false, dup: false }
const withProps: PublishOut = {
  ...small,
  properties: {
    messageExpiryInterval: 60,
    contentType: 'application/json',
    userProperties: [
      ['site', 'north'],
      ['unit', 'C']
    ]
  }
}

function readerRate(label: string, packet: Buffer, chunked: boolean): void {
  const chunk = chunked ? Buffer.concat(new Array<Buffer>(PER_CHUNK).fill(packet)) : packet
  const feeds = chunked ? N / PER_CHUNK : N
  let seen = 0
  const reader = new MqttPacketReader({
    maxPacketBytes: 1 << 20,
    onPacket: () => {
      seen++
    },
    onError: e => {
      throw e
    }
  })
  reader.feed(encodePacket({ cmd: 'connect', clientId: 'bench', protocolVersion: 5 }, 5))
  seen = 0
  rate(label, N, () => {
    for (let i = 0; i < feeds; i++) reader.feed(chunk)
  })
  if (seen !== N) throw new Error(`${label}: ${seen} packets of ${N}`)
}

function parserRate(label: string, packet: Buffer, chunked: boolean): void {
  const chunk = chunked ? Buffer.concat(new Array<Buffer>(PER_CHUNK).fill(packet)) : packet
  const feeds = chunked ? N / PER_CHUNK : N
  const parser = mqttPacket.parser({ protocolVersion: 5 })
  let seen = 0
  parser.on('packet', () => {
    seen++
  })
  rate(label, N, () => {
    for (let i = 0; i < feeds; i++) parser.parse(chunk)
  })
  if (seen !== N) throw new Error(`${label}: ${seen} packets of ${N}`)
}

function splitRate(label: string, packet: Buffer): void {
  // Every packet split in two across reads: the gathering path.
  const stream = Buffer.concat(new Array<Buffer>(PER_CHUNK).fill(packet))
  const cut = Math.floor(packet.length / 2)
  const reads: Buffer[] = []
  for (let o = cut; o < stream.length; o += packet.length) reads.push(stream.subarray(o - (o === cut ? cut : packet.length), o))
  reads.push(stream.subarray(stream.length - packet.length + cut))
  let seen = 0
  const reader = new MqttPacketReader({
    maxPacketBytes: 1 << 20,
    onPacket: () => {
      seen++
    },
    onError: e => {
      throw e
    }
  })
  reader.feed(encodePacket({ cmd: 'connect', clientId: 'bench', protocolVersion: 5 }, 5))
  seen = 0
  rate(label, N, () => {
    for (let i = 0; i < N / PER_CHUNK; i++) for (const r of reads) reader.feed(r)
  })
  if (seen !== N) throw new Error(`${label}: ${seen} packets of ${N}`)
}

const m = describeMachine()
console.log(`${m.cpuModel}, ${m.cores} cores, node ${m.node}, ${m.os}; ${N.toLocaleString('en-US')} packets per line`)
const smallBytes = encodePublish(small, 5)
const propsBytes = encodePublish(withProps, 5)
for (let round = 0; round < 2; round++) {
  // the first round warms the JIT; both are printed
  console.log(`-- round ${round + 1}`)
  parserRate(`mqtt-packet parser, v5 PUBLISH ${smallBytes.length} B, ${PER_CHUNK}/read`, smallBytes, true)
  readerRate(`MqttPacketReader, v5 PUBLISH ${smallBytes.length} B, ${PER_CHUNK}/read`, smallBytes, true)
  parserRate('mqtt-packet parser, same, 1/read', smallBytes, false)
  readerRate('MqttPacketReader, same, 1/read', smallBytes, false)
  splitRate('MqttPacketReader, same, every packet split', smallBytes)
  parserRate(`mqtt-packet parser, v5 PUBLISH ${propsBytes.length} B + 4 props, ${PER_CHUNK}/read`, propsBytes, true)
  readerRate(`MqttPacketReader, v5 PUBLISH ${propsBytes.length} B + 4 props, ${PER_CHUNK}/read`, propsBytes, true)
  const generated = { cmd: 'publish' as const, topic: small.topic, payload: small.payload, qos: 1 as const, messageId: 7, retain: false, dup: false }
  rate('mqtt-packet generate, v5 PUBLISH', N, () => {
    for (let i = 0; i < N; i++) mqttPacket.generate(generated, { protocolVersion: 5 })
  })
  rate('encodePublish, v5 PUBLISH', N, () => {
    for (let i = 0; i < N; i++) encodePublish(small, 5)
  })
  rate('encodePublish, v5 PUBLISH + 4 props', N, () => {
    for (let i = 0; i < N; i++) encodePublish(withProps, 5)
  })
  rate('encodePacket, v5 PUBACK', N, () => {
    for (let i = 0; i < N; i++) encodePacket({ cmd: 'puback', messageId: 7 }, 5)
  })
}
