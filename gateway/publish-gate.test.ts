import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PublishGate } from './publish-gate.ts'
import type { PublishHold } from '../core/limits/publish-hold.ts'

test('reasons from several sources combine; publishers go again only when every one cleared', () => {
  const seen: Array<string | null> = []
  const gate = new PublishGate(reasonFor => seen.push(reasonFor('/')))
  gate.set('disk', 'disk full')
  gate.set('bridge cloud', 'backlog full')
  gate.set('disk', 'disk full') // no change, not told again
  gate.set('disk', null)
  assert.equal(gate.reasonFor('/'), 'backlog full')
  gate.set('bridge cloud', null)
  gate.set('bridge cloud', null)
  assert.deepEqual(seen, ['disk full', 'disk full; backlog full', 'backlog full', null])
})

test("a vhost's reason holds its publishers only; one of every vhost holds them all", () => {
  let told: PublishHold = () => 'never told'
  let changes = 0
  const gate = new PublishGate(reasonFor => {
    told = reasonFor
    changes++
  })
  gate.set('bridge plant-cloud', 'plant backlog full', 'plant')
  assert.equal(told('plant'), 'plant backlog full')
  assert.equal(told('/'), null, 'the other vhosts publish on')
  gate.set('disk', 'disk full')
  assert.equal(told('plant'), 'disk full; plant backlog full')
  assert.equal(told('/'), 'disk full')
  gate.set('bridge plant-cloud', null, 'plant')
  assert.equal(told('plant'), 'disk full')
  gate.set('disk', null)
  assert.equal(told('plant'), null)
  assert.equal(told('/'), null)
  assert.equal(changes, 4)
})
