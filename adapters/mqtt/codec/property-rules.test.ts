import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { PROPERTY_RULES, Section } from './property-rules.ts'

// mqtt-packet's own table of property identifiers (it has no types for this file).
const mqttConstants = createRequire(import.meta.url)('mqtt-packet/constants.js') as { properties: Record<string, number> }

const rules = PROPERTY_RULES.filter(r => r !== undefined)

test("the table has MQTT 5's 27 properties under mqtt-packet's identifiers and names", () => {
  assert.equal(rules.length, 27)
  const theirs = mqttConstants.properties
  assert.equal(Object.keys(theirs).length, 27)
  for (const [key, id] of Object.entries(theirs)) assert.equal(PROPERTY_RULES[id]?.key, key, `0x${id.toString(16)}`)
})

test('only User Property repeats everywhere; Subscription Identifier repeats in PUBLISH only', () => {
  const repeatable = rules.filter(r => r.repeatable !== 0).map(r => [r.name, r.repeatable])
  assert.deepEqual(repeatable, [
    ['Subscription Identifier', Section.PUBLISH],
    ['User Property', -1]
  ])
})

test('spot checks against §2.2.2.2 Table 2-4', () => {
  const where = (id: number): number => PROPERTY_RULES[id]?.sections ?? 0
  assert.equal(where(0x18), Section.WILL, 'Will Delay Interval: Will Properties only')
  assert.equal(where(0x23), Section.PUBLISH, 'Topic Alias: PUBLISH only')
  assert.equal(where(0x11), Section.CONNECT | Section.CONNACK | Section.DISCONNECT)
  assert.equal(where(0x15), Section.CONNECT | Section.CONNACK | Section.AUTH)
  assert.equal(where(0x1f) & (Section.CONNECT | Section.PUBLISH | Section.SUBSCRIBE | Section.UNSUBSCRIBE), 0, 'Reason String: never from a client request')
  assert.equal(where(0x26) & Section.WILL, Section.WILL)
})
