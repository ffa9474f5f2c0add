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

async function setup(): Promise<{ sent: Array<{ seq: number; confirm: () => void }>; reservations: Array<{ seq: number; commit: () => void }> }> {
  const clock = new ManualClock()
  const vhost = new Broker({ vhosts: ['/'], clock }).vhost('/')!
  const queue = await declareBridgeQueue(vhost, 'amq.topic', 'cloud', ['up/#'])
  const reservations: Array<{ seq: number; commit: () => void }> = []
  const sent: Array<{ seq: number; confirm: () => void }> = []
  const forwarder = new Forwarder(queue, {
    bridgeName: 'cloud',
    out: defaultBridge().out,
    hopsMax: defaultBridge().hopsMax,
    clock,
    bucket: null,
    counters: bridgeCounters(new Metrics(), 'cloud'),
    reserveDelivered: (_q, seq) => new Promise<void>(commit => reservations.push({ seq, commit })),
    onSettled: () => {},
    onConfirmed: () => {},
    onRefused: (_link, err) => assert.fail(err),
    remoteBodyBytesMax: () => 0,
    deadLetter: async () => {},
    onDeadLettered: () => {}
  })
  vhost.consume(queue.name, forwarder, BRIDGE_OWNER)
  for (let i = 0; i < 20; i++) vhost.publish('amq.topic', new Message('amq.topic', 'up.a', { deliveryMode: 2 }, Buffer.from(`m${i}`), 0, null))
  const link: RemoteLink = {
    remoteNodeId: null,
    windowMax: WINDOW,
    closed: new Promise<Error>(() => {}),
    send: (_topic, message) => new Promise<void>(confirm => sent.push({ seq: Number(message.body.toString().slice(1)) + 1, confirm })),
    close: async () => {}
  }
  forwarder.attach(link)
  return { sent, reservations }
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
