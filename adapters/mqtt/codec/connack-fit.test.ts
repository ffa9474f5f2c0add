// connackWithin: what a CONNACK leaves out to stay within the client's Maximum Packet Size [MQTT-3.1.2-24].
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { IConnackPacket } from 'mqtt-packet'
import { connackWithin } from './connack-fit.ts'
import { encodePacket } from './packet-writer.ts'

const wharfConnack = (extra: NonNullable<IConnackPacket['properties']> = {}): IConnackPacket => ({
  cmd: 'connack',
  sessionPresent: false,
  reasonCode: 0,
  properties: {
    receiveMaximum: 65535,
    maximumPacketSize: 16_777_216,
    topicAliasMaximum: 1024,
    retainAvailable: true,
    wildcardSubscriptionAvailable: true,
    subscriptionIdentifiersAvailable: true,
    sharedSubscriptionAvailable: true,
    userProperties: { 'wharf-node-id': '0123456789abcdef' },
    ...extra
  }
})
const bytes = (p: IConnackPacket): number => encodePacket(p as never, 5).length

test('[MQTT-3.1.2-24] a CONNACK that fits goes whole', () => {
  const p = wharfConnack()
  assert.equal(connackWithin(p, bytes(p)), p)
})

test('[MQTT-3.1.2-24] the properties that restate a default go first, then the User Property, then Topic Alias Maximum', () => {
  const p = wharfConnack()
  const noDefaults = connackWithin(p, bytes(p) - 1)
  assert.deepEqual(noDefaults?.properties, { maximumPacketSize: 16_777_216, topicAliasMaximum: 1024, userProperties: { 'wharf-node-id': '0123456789abcdef' } })
  const noUser = connackWithin(p, 20)
  assert.deepEqual(noUser?.properties, { maximumPacketSize: 16_777_216, topicAliasMaximum: 1024 })
  assert.ok(bytes(noUser as IConnackPacket) <= 20)
  const noAlias = connackWithin(p, 12)
  assert.deepEqual(noAlias?.properties, { maximumPacketSize: 16_777_216 })
  assert.equal(bytes(noAlias as IConnackPacket), 10)
})

test('[MQTT-3.1.2-24] a Receive Maximum below 65535 and the capabilities Wharf lacks are not defaults: they stay', () => {
  const p = wharfConnack({ receiveMaximum: 10, maximumQoS: 1 })
  assert.deepEqual(connackWithin(p, 20)?.properties, { receiveMaximum: 10, maximumPacketSize: 16_777_216, topicAliasMaximum: 1024, maximumQoS: 1 })
})

test('[MQTT-3.1.2-24] no CONNACK when what the client must hear does not fit', () => {
  assert.equal(connackWithin(wharfConnack({ assignedClientIdentifier: 'wharf-abcdefghijkl' }), 12), null)
  assert.equal(connackWithin(wharfConnack(), 9), null)
})
