import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Message } from '../../core/model/message.ts'
import { CAME_DOWN_HEADER, forwardDecision, hopLimitProblem, isOwnEcho, upHeaders, VIA_HEADER, viaOf } from './loop-marks.ts'

const msg = (headers?: Record<string, unknown>): Message => new Message('amq.topic', 'a.b', headers === undefined ? {} : { headers }, Buffer.from('x'), 0, null)

test('a message that came down a bridge is not sent back up that bridge, but up another', () => {
  const m = msg({ [CAME_DOWN_HEADER]: 'cloud' })
  assert.equal(forwardDecision(m, 'cloud', null), 'came-down-here')
  assert.equal(forwardDecision(m, 'backup', null), 'forward')
  assert.equal(forwardDecision(msg({ [CAME_DOWN_HEADER]: Buffer.from('cloud') }), 'cloud', null), 'came-down-here')
  assert.equal(forwardDecision(msg(), 'cloud', null), 'forward')
})

test('a message is not sent to a Wharf it already went through', () => {
  const m = msg({ [VIA_HEADER]: 'aaaa,bbbb' })
  assert.equal(forwardDecision(m, 'x', 'bbbb'), 'visited-remote')
  assert.equal(forwardDecision(m, 'x', 'cccc'), 'forward')
  assert.equal(forwardDecision(m, 'x', null), 'forward')
})

test('going up: the local mark off, this node added to the via list', () => {
  const h = upHeaders({ [CAME_DOWN_HEADER]: 'cloud', [VIA_HEADER]: 'aaaa', k: 'v' }, 'bbbb')
  assert.deepEqual(h, { [VIA_HEADER]: 'aaaa,bbbb', k: 'v' })
  assert.deepEqual(upHeaders(undefined, 'n1'), { [VIA_HEADER]: 'n1' })
  assert.deepEqual(viaOf({ [VIA_HEADER]: Buffer.from('a,b') }), ['a', 'b'])
  assert.equal(isOwnEcho(['a', 'n1'], 'n1'), true)
  assert.equal(isOwnEcho([], 'n1'), false)
})

test('hopsMax: a message that went up through that many Wharf bridges may not go up again', () => {
  assert.equal(hopLimitProblem(undefined, 1), null, 'no headers: never went up')
  assert.equal(hopLimitProblem({ other: 'x' }, 1), null)
  assert.equal(hopLimitProblem({ [VIA_HEADER]: 'a,b' }, 3), null)
  assert.match(hopLimitProblem({ [VIA_HEADER]: 'a,b,a' }, 3) ?? '', /went up through 3 Wharf bridges already \(x-wharf-via: a,b,a\), bridges\[\]\.hopsMax is 3/)
  assert.notEqual(hopLimitProblem({ [VIA_HEADER]: Buffer.from('a') }, 1), null, 'an AMQP longstr arrives as a Buffer')
  assert.equal(hopLimitProblem({ [VIA_HEADER]: '' }, 1), null, 'an empty list counts no hop')
})
