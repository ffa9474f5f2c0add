import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SourceIpRate } from './source-ip-rate.ts'

test('one second of the rate per address, refilled at the rate; addresses apart; IPv4-mapped is IPv4', () => {
  let now = 0
  const rate = new SourceIpRate(3, () => now)
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
  const rate = new SourceIpRate(0, () => 0)
  assert.equal(rate.enabled, false)
  for (let i = 0; i < 1000; i++) assert.equal(rate.allow('10.0.0.1'), true)
  assert.equal(rate.size, 0)
})
