import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConnackReturnCode, ReasonCode, connackReturnCodeV3, reasonName, subackReturnCodeV3 } from './reason-codes.ts'

test('every reason code of MQTT 5 Table 2-6 has its spec name', () => {
  const codes = new Set(Object.values(ReasonCode))
  assert.equal(codes.size, 43)
  for (const code of codes) assert.doesNotMatch(reasonName(code), /unknown/, `0x${code.toString(16)}`)
  assert.equal(reasonName(ReasonCode.PacketTooLarge), 'Packet too large')
  assert.equal(reasonName(0xa2), 'Wildcard Subscriptions not supported')
  assert.equal(reasonName(0x03), 'unknown reason code 0x03')
})

test('0x00 is named after the packet that carries it', () => {
  assert.equal(reasonName(0, 'puback'), 'Success')
  assert.equal(reasonName(0, 'disconnect'), 'Normal disconnection')
  assert.equal(reasonName(0, 'suback'), 'Granted QoS 0')
})

test('a v5 CONNACK reason maps to the 3.1.1 return code, or to none [MQTT-3.2.2-6]', () => {
  assert.equal(connackReturnCodeV3(ReasonCode.Success), ConnackReturnCode.Accepted)
  assert.equal(connackReturnCodeV3(0x84), 1)
  assert.equal(connackReturnCodeV3(0x85), 2)
  assert.equal(connackReturnCodeV3(0x88), 3)
  assert.equal(connackReturnCodeV3(0x89), 3)
  assert.equal(connackReturnCodeV3(0x86), 4)
  assert.equal(connackReturnCodeV3(0x87), 5)
  assert.equal(connackReturnCodeV3(0x8a), 5)
  assert.equal(connackReturnCodeV3(ReasonCode.MalformedPacket), null)
  assert.equal(connackReturnCodeV3(ReasonCode.ProtocolError), null)
})

test('a v5 SUBACK reason maps to a 3.1.1 return code: granted QoS or 0x80', () => {
  assert.deepEqual([0, 1, 2, 0x80, 0x87, 0x9e].map(subackReturnCodeV3), [0, 1, 2, 0x80, 0x80, 0x80])
})
