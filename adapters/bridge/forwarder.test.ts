// The forwarder's reservations of the delivered watermark, with commits resolved by hand: an entry
// never goes out above a committed watermark, and a window freed at once goes out at once.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as tick } from 'node:timers/promises'
import { Broker } from '../../core/model/broker.ts'
import { Message } from '../../core/model/message.ts'
import { ManualClock } from '../../core/manual-clock.ts'
import { Metrics } from '../../core/metrics.ts'
import { defaultBridge } from '../../edge-config/defaults.ts'
import { bridgeCounters } from './bridge-metrics.ts'
import { BRIDGE_OWNER, declareBridgeQueue } from './bridge-queue.ts'
import { Forwarder } from './forwarder.ts'
import type { RemoteLink } from './links/link.ts'

const WINDOW = 4

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick()
}

interface Setup {
  sent: Array<{ seq: number; confirm: () => void }>
  reservations: Array<{ seq: number; commit: () => void }>
  counters: ReturnType<typeof bridgeCounters>
}

/** remoteBodyBytesMax: what the remote is known to take (0: not known), asked at each decision. */
async function setup(remoteBodyBytesMax: () => number = () => 0): Promise<Setup> {
  const clock = new ManualClock()
  const vhost = new Broker({ vhosts: ['/'], clock }).vhost('/')!
  const queue = await declareBridgeQueue(vhost, 'amq.topic', 'cloud', ['up/#'])
  const reservations: Array<{ seq: number; commit: () => void }> = []
  const sent: Array<{ seq: number; confirm: () => void }> = []
  const counters = bridgeCounters(new Metrics(), 'cloud')
  const forwarder = new Forwarder(queue, {
    bridgeName: 'cloud',
    out: defaultBridge().out,
    hopsMax: defaultBridge().hopsMax,
    clock,
    bucket: null,
    counters,
    reserveDelivered: (_q, seq) => new Promise<void>(commit => reservations.push({ seq, commit })),
    onSettled: () => {},
    onConfirmed: () => {},
    onRefused: (_link, err) => assert.fail(err),
    remoteBodyBytesMax,
    refusedTopic: () => null,
    deadLetter: async () => {},
    onDeadLettered: () => {}
  })
  vhost.consume(queue.name, forwarder, BRIDGE_OWNER)
  for (let i = 0; i < 20; i++) vhost.publish('amq.topic', new Message('amq.topic', 'up.a', { deliveryMode: 2 }, Buffer.from(`m${i}`), 0, null))
  const link: RemoteLink = {
    remoteNodeId: null,
    windowMax: WINDOW,
    remoteLimits: [],
    inRefused: [],
    closed: new Promise<Error>(() => {}),
    send: (_topic, message) => new Promise<void>(confirm => sent.push({ seq: Number(message.body.toString().slice(1)) + 1, confirm })),
    close: async () => {}
  }
  forwarder.attach(link)
  return { sent, reservations, counters }
}

test('nothing goes out before the watermark covering it is committed', async () => {
  const { sent, reservations } = await setup()
  assert.equal(sent.length, 0, 'the first window waits for its reservation')
  assert.deepEqual(
    reservations.map(r => r.seq),
    [1 + 2 * WINDOW]
  )
  reservations[0]?.commit()
  await settle()
  assert.deepEqual(
    sent.map(s => s.seq),
    [1, 2, 3, 4]
  )
  for (const s of sent) assert.ok(s.seq <= (reservations[0]?.seq ?? 0))
})

test('a whole window confirmed at once goes out at once: the watermark is kept a window ahead', async () => {
  const { sent, reservations } = await setup()
  reservations[0]?.commit()
  await settle()
  // One multiple confirm for the whole window (as RabbitMQ sends them).
  for (const s of sent.splice(0)) s.confirm()
  await settle()
  assert.deepEqual(
    sent.map(s => s.seq),
    [5, 6, 7, 8],
    'sent without waiting for a commit'
  )
  // The next reservation was asked for meanwhile, before the watermark ran out.
  assert.deepEqual(
    reservations.map(r => r.seq),
    [9, 6 + 2 * WINDOW]
  )
  for (const s of sent.splice(0)) s.confirm()
  await settle()
  assert.deepEqual(
    sent.map(s => s.seq),
    [9],
    'above the committed watermark: held until the commit'
  )
  reservations[1]?.commit()
  await settle()
  assert.deepEqual(
    sent.map(s => s.seq),
    [9, 10, 11, 12]
  )
})

test('an entry refused while it waited for its reservation is dead-lettered, and not counted as forwarded', async () => {
  let bytesMax = 0
  const { sent, reservations, counters } = await setup(() => bytesMax)
  // The first window is handed out and waits; meanwhile the remote's size limit is learned (a 406
  // naming it, on another message): bodies 'm0'..'m3' are over 1 byte.
  bytesMax = 1
  reservations[0]?.commit()
  await settle()
  assert.equal(sent.length, 0, 'none of them goes out')
  assert.equal(counters.forwarded.value, 0)
  assert.ok(counters.deadLettered.value >= 4, `the waiting window is dead-lettered (${counters.deadLettered.value})`)
})
