import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SourceIpRate } from './source-ip-rate.ts'

test('one second of the rate per address, refilled at the rate; addresses apart; IPv4-mapped is IPv4', () => {
  let now = 0
  const rate = new SourceIpRate(3, () => now, 100)
  assert.deepEqual(
    [1, 2, 3, 4].map(() => rate.allow('10.0.0.1')),
    [true, true, true, false]
  )
  assert.equal(rate.allow('::ffff:10.0.0.1'), false, 'the same client over a dual-stack listener')
  assert.equal(rate.allow('10.0.0.2'), true)
  now = 334
  assert.equal(rate.allow('10.0.0.1'), true, 'one token back after a third of a second')
  assert.equal(rate.allow('10.0.0.1'), false)
})

test('0 turns it off', () => {
  const rate = new SourceIpRate(0, () => 0, 100)
  assert.equal(rate.enabled, false)
  for (let i = 0; i < 1000; i++) assert.equal(rate.allow('10.0.0.1'), true)
  assert.equal(rate.size, 0)
})

test('at addressesMax the idle addresses are forgotten; when every one is busy, all are', () => {
  let now = 0
  const rate = new SourceIpRate(2, () => now, 3)
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) assert.equal(rate.allow(a), true)
  assert.equal(rate.size, 3)
  now = 1000 // every bucket refilled: idle
  rate.allow('10.0.0.1')
  rate.allow('10.0.0.4')
  assert.equal(rate.size, 2, 'the idle ones went, the new one and the reused one stay')
  rate.allow('10.0.0.5')
  assert.equal(rate.size, 3)
  rate.allow('10.0.0.6')
  assert.equal(rate.size, 1, 'all three busy: the table starts over rather than grow')
})
