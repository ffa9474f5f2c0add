import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import { AckReasonCodeFilter } from './mqtt-ack-codes.ts'

const v5 = { protocolVersion: 5 } as const
const gen = (p: Record<string, unknown>): Buffer => mqttPacket.generate(p as unknown as mqttPacket.Packet, v5)

// What Mosquitto 2.0.11 sent for a PUBLISH over message_size_limit, then the PUBACK of the next one
// (captured: 40 03 00 07 95, 40 03 00 08 10), around a large PUBLISH, a short PUBACK and a PUBREC.
const stream = Buffer.concat([
  gen({ cmd: 'publish', topic: 'cmd/a', payload: Buffer.alloc(300, 0x40), qos: 1, messageId: 9 }),
  Buffer.from('40030007954003000810', 'hex'),
  gen({ cmd: 'puback', messageId: 10 }),
  gen({ cmd: 'pubrec', messageId: 11, reasonCode: 0x87 }),
  Buffer.from('50030c0c9a', 'hex'), // PUBREC 0x9a Retain not supported, id 3084
  gen({ cmd: 'pingresp' })
])

function parseAll(buf: Buffer): mqttPacket.Packet[] {
  const out: mqttPacket.Packet[] = []
  const parser = mqttPacket.parser(v5)
  parser.on('packet', p => out.push(p))
  parser.on('error', err => assert.fail(err))
  parser.parse(buf)
  return out
}

test('a disallowed PUBACK/PUBREC reason code becomes 0x80 and is kept by packet id, whatever the reads', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const filter = new AckReasonCodeFilter()
    const copy = Buffer.from(stream)
    filter.scan(copy.subarray(0, cut))
    filter.scan(copy.subarray(cut))
    const packets = parseAll(copy)
    assert.deepEqual(
      packets.map(p => [p.cmd, (p as { messageId?: number }).messageId, (p as { reasonCode?: number }).reasonCode]),
      [
        ['publish', 9, undefined],
        ['puback', 7, 0x80],
        ['puback', 8, 0x10],
        ['puback', 10, 0],
        ['pubrec', 11, 0x87],
        ['pubrec', 3084, 0x80],
        ['pingresp', undefined, undefined]
      ],
      `cut at ${cut}`
    )
    assert.equal(filter.takeReplaced(7), 0x95)
    assert.equal(filter.takeReplaced(7), undefined, 'given once')
    assert.equal(filter.takeReplaced(3084), 0x9a)
    assert.equal(filter.takeReplaced(8), undefined)
  }
})

test('one byte at a time', () => {
  const filter = new AckReasonCodeFilter()
  const copy = Buffer.from(stream)
  for (let i = 0; i < copy.length; i++) filter.scan(copy.subarray(i, i + 1))
  assert.equal(parseAll(copy).length, 7)
  assert.equal(filter.takeReplaced(7), 0x95)
})
