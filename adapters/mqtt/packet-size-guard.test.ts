import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import { PacketSizeGuard } from './packet-size-guard.ts'

function publish (bytes: number): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(bytes), qos: 0, retain: false, dup: false } as mqttPacket.IPublishPacket)
}

test('packets under the limit pass whatever the chunking', () => {
  const stream = Buffer.concat([publish(10), publish(200), publish(0), publish(16000)])
  for (let split = 1; split < stream.length; split += 97) {
    const guard = new PacketSizeGuard(20000)
    assert.equal(guard.feed(stream.subarray(0, split)), null)
    assert.equal(guard.feed(stream.subarray(split)), null)
  }
})

test('an oversize packet is refused from its header alone', () => {
  const guard = new PacketSizeGuard(1000)
  assert.equal(guard.feed(publish(100)), null)
  const big = publish(5000)
  assert.match(guard.feed(big.subarray(0, 3)) ?? '', /exceeds mqtt.maxPacketBytes 1000/)
})

test('a remaining length longer than four bytes is malformed', () => {
  const guard = new PacketSizeGuard(1 << 30)
  assert.match(guard.feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])) ?? '', /malformed/)
})
