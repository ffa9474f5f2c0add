import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PublishGate } from './publish-gate.ts'

test('reasons from several sources combine; publishers go again only when every one cleared', () => {
  const seen: Array<string | null> = []
  const gate = new PublishGate(r => seen.push(r))
  gate.set('disk', 'disk full')
  gate.set('bridge cloud', 'backlog full')
  gate.set('disk', 'disk full') // no change, not told again
  gate.set('disk', null)
  assert.equal(gate.reason, 'backlog full')
  gate.set('bridge cloud', null)
  gate.set('bridge cloud', null)
  assert.deepEqual(seen, ['disk full', 'disk full; backlog full', 'backlog full', null])
})
