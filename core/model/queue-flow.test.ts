import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../manual-clock.ts'
import { QueueFlow, type FlowEnd } from './queue-flow.ts'

function flowWith(holdMaxMs: number): { flow: QueueFlow; clock: ManualClock; ends: FlowEnd[] } {
  const clock = new ManualClock()
  const ends: FlowEnd[] = []
  const flow = new QueueFlow({ startMessages: 100, holdMaxMs, clock }, how => ends.push(how))
  return { flow, clock, ends }
}

/** Whether the promise settled by now (a microtask turn later). */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false
  void p.then(() => {
    done = true
  })
  await new Promise(resolve => setImmediate(resolve))
  return done
}

test('flow holds acknowledgements once a consumed queue is past its start, and releases them when the consumers caught up', async () => {
  const { flow, ends } = flowWith(1000)
  assert.equal(flow.hold(100, 1, 10), undefined, 'at the start mark: not yet')
  const held = flow.hold(101, 1, 10)
  assert.ok(held !== undefined)
  assert.equal(flow.hold(150, 1, 10), held, 'every publish in the episode waits for the same release')
  assert.equal(flow.active, true)
  flow.eased(51, 1)
  assert.equal(await settled(held), false, 'above the end mark: still held')
  flow.eased(50, 1)
  assert.equal(await settled(held), true)
  assert.equal(flow.active, false)
  assert.deepEqual(ends, ['caught-up'])
})

test('a queue without consumers never holds publishers: storing for absent consumers is its job', () => {
  const { flow } = flowWith(1000)
  assert.equal(flow.hold(10_000, 0, 0), undefined)
})

test('nor one whose consumers have nothing in flight (a bridge whose link is down): they are not taking messages', () => {
  const { flow } = flowWith(1000)
  assert.equal(flow.hold(10_000, 1, 0), undefined)
})

test('the last consumer leaving ends flow', async () => {
  const { flow, ends } = flowWith(1000)
  const held = flow.hold(500, 1, 10) as Promise<void>
  flow.eased(500, 0)
  assert.equal(await settled(held), true)
  assert.deepEqual(ends, ['caught-up'])
})

test('consumers that do not catch up within holdMaxMs are given up on: no flow again until the backlog is down to the end mark', async () => {
  const { flow, clock, ends } = flowWith(1000)
  const held = flow.hold(500, 1, 10) as Promise<void>
  clock.advance(999)
  assert.equal(await settled(held), false)
  clock.advance(1)
  assert.equal(await settled(held), true, 'released at holdMaxMs')
  assert.deepEqual(ends, ['gave-up'])
  assert.equal(flow.hold(600, 1, 10), undefined, 'a slow consumer does not hold its publishers again')
  assert.equal(flow.watching, true)
  flow.eased(51, 1)
  assert.equal(flow.hold(600, 1, 10), undefined)
  flow.eased(50, 1)
  assert.equal(flow.watching, false, 're-armed at the end mark')
  assert.ok(flow.hold(101, 1, 10) !== undefined, 'and holds again past the start mark')
})

test('a deleted queue releases what it holds', async () => {
  const { flow, clock } = flowWith(1000)
  const held = flow.hold(500, 1, 10) as Promise<void>
  flow.stop()
  assert.equal(await settled(held), true)
  clock.advance(5000) // the give-up timer went with it
  assert.equal(flow.active, false)
})
