// The bridge against a scripted remote, on the in-memory model and a hand-driven clock: order,
// confirms, the window, lost links and backoff, refusals, loops, the backlog bound, the rate cap and
// the downlink, without a network or a sleep.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as tick } from 'node:timers/promises'
import { Broker } from '../../core/model/broker.ts'
import { Message } from '../../core/model/message.ts'
import { ManualClock } from '../../core/manual-clock.ts'
import { Metrics } from '../../core/metrics.ts'
import { silentLogger } from '../../core/logger.ts'
import { defaultBridge } from '../../edge-config/defaults.ts'
import type { BridgeConfig } from '../../edge-config/config-types.ts'
import { Bridge } from './bridge.ts'
import { bridgeCounters } from './bridge-metrics.ts'
import { retireStaleBridgeQueues } from './bridge-queue.ts'
import { PendingSends, type Downlinked, type LinkOptions, type RemoteLink } from './links/link.ts'
import { CAME_DOWN_HEADER, upHeaders, VIA_HEADER } from './loop-marks.ts'

interface Sent {
  topic: string
  body: string
  headers: Record<string, unknown>
  resolve: () => void
  reject: (err: Error) => void
}

class FakeLink implements RemoteLink {
  readonly sent: Sent[] = []
  private readonly pending = new PendingSends()
  readonly closed = this.pending.closed
  readonly remoteLimits: readonly string[] = []
  readonly inRefused: readonly string[] = []
  constructor(
    readonly opts: LinkOptions,
    readonly windowMax: number,
    readonly remoteNodeId: string | null
  ) {}
  send(topic: string, message: Message): Promise<void> {
    const headers = upHeaders(message.properties.headers, this.opts.nodeId)
    return this.pending.track((resolve, reject) => this.sent.push({ topic, body: message.body.toString(), headers, resolve, reject }))
  }

  async close(): Promise<void> {
    this.pending.fail(new Error('link closed'))
  }
  /** Confirms every send so far. */
  confirmAll(): void {
    for (const s of this.sent.splice(0)) s.resolve()
  }
  lose(why = 'connection closed: ECONNRESET'): void {
    this.pending.fail(new Error(why))
  }
}

class FakeRemote {
  up = true
  window = 100
  nodeId: string | null = null
  readonly links: FakeLink[] = []
  readonly factory = async (opts: LinkOptions): Promise<RemoteLink> => {
    if (!this.up) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    const link = new FakeLink(opts, Math.min(this.window, opts.bridge.inflightMessagesMax), this.nodeId)
    this.links.push(link)
    return link
  }

  get link(): FakeLink {
    return this.links.at(-1) as FakeLink
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick()
}

async function setup(patch: Partial<BridgeConfig> = {}): Promise<{
  bridge: Bridge
  remote: FakeRemote
  clock: ManualClock
  publish: (key: string, body: string, headers?: Record<string, unknown>) => void
  blocked: Array<string | null>
  broker: Broker
}> {
  const clock = new ManualClock()
  const broker = new Broker({ vhosts: ['/'], clock })
  const vhost = broker.vhost('/')!
  const remote = new FakeRemote()
  const blocked: Array<string | null> = []
  const config: BridgeConfig = {
    ...defaultBridge(),
    name: 'cloud',
    url: 'amqp://127.0.0.1:1',
    out: { topics: ['up/#'], localPrefix: 'up/', remotePrefix: 'edge/' },
    reconnectInitialMs: 100,
    reconnectMaxMs: 1000,
    ...patch
  }
  const bridge = await Bridge.start(config, {
    vhost,
    exchange: 'amq.topic',
    nodeId: 'n1',
    clock,
    logger: silentLogger,
    counters: bridgeCounters(new Metrics(), 'cloud'),
    link: remote.factory,
    remote: 'amqp',
    onBlock: r => blocked.push(r),
    random: () => 0
  })
  const publish = (key: string, body: string, headers?: Record<string, unknown>): void => {
    vhost.publish(
      'amq.topic',
      new Message('amq.topic', key, headers === undefined ? { deliveryMode: 2 } : { deliveryMode: 2, headers }, Buffer.from(body), clock.nowMs(), null)
    )
  }
  await settle()
  return { bridge, remote, clock, publish, blocked, broker }
}

test('messages go up in order, mapped, and leave the backlog only when confirmed', async () => {
  const { bridge, remote, publish } = await setup()
  for (let i = 0; i < 5; i++) publish('up.a', `m${i}`)
  publish('other.x', 'not matched')
  await settle()
  const link = remote.link
  assert.deepEqual(
    link.sent.map(s => [s.topic, s.body]),
    [0, 1, 2, 3, 4].map(i => ['edge/a', `m${i}`])
  )
  assert.equal(link.sent[0]?.headers[VIA_HEADER], 'n1')
  assert.equal(bridge.status().backlog.messages, 5)
  link.confirmAll()
  await settle()
  const s = bridge.status()
  assert.deepEqual([s.backlog.messages, s.forwarded, s.confirmed, s.redelivered, s.state], [0, 5, 5, 0, 'connected'])
  await bridge.stop()
})

test('at most the window is in flight; each confirm lets the next one go', async () => {
  const { bridge, remote, publish } = await setup({ inflightMessagesMax: 3 })
  for (let i = 0; i < 10; i++) publish('up.a', `m${i}`)
  await settle()
  assert.equal(remote.link.sent.length, 3)
  remote.link.sent.shift()?.resolve()
  await settle()
  assert.deepEqual(
    remote.link.sent.map(s => s.body),
    ['m1', 'm2', 'm3']
  )
  await bridge.stop()
})

test('a lost link gives the unconfirmed back; after the backoff they go first, in order, counted as redelivered', async () => {
  const { bridge, remote, clock, publish } = await setup()
  for (let i = 0; i < 4; i++) publish('up.a', `m${i}`)
  await settle()
  remote.link.sent.shift()?.resolve() // m0 confirmed
  await settle()
  remote.up = false
  remote.link.lose()
  await settle()
  assert.equal(bridge.status().state, 'backing-off')
  publish('up.a', 'm4')
  clock.advance(50) // first retry after 50 ms (100 ms step, jitter 0), fails
  await settle()
  assert.equal(bridge.status().state, 'backing-off')
  assert.match(bridge.status().lastError ?? '', /ECONNREFUSED/)
  remote.up = true
  clock.advance(99)
  await settle()
  assert.equal(remote.links.length, 1, 'the second delay (100 ms) has not passed yet')
  clock.advance(1)
  await settle()
  assert.equal(remote.links.length, 2)
  assert.deepEqual(
    remote.link.sent.map(s => s.body),
    ['m1', 'm2', 'm3', 'm4']
  )
  remote.link.confirmAll()
  await settle()
  const s = bridge.status()
  assert.deepEqual([s.state, s.confirmed, s.redelivered, s.backlog.messages], ['connected', 5, 3, 0])
  await bridge.stop()
})

test('a message the remote refuses ends the link (state error) and is sent again, first', async () => {
  const { bridge, remote, clock, publish } = await setup()
  publish('up.a', 'bad')
  publish('up.a', 'next')
  await settle()
  remote.link.sent[0]?.reject(new Error('the remote refused a message (basic.nack)'))
  await settle()
  assert.equal(bridge.status().state, 'error')
  clock.advance(100)
  await settle()
  assert.deepEqual(
    remote.link.sent.map(s => s.body),
    ['bad', 'next']
  )
  await bridge.stop()
})

test('what came down this bridge, or already went through the remote Wharf, is not sent up', async () => {
  const { bridge, remote, publish } = await setup()
  remote.link.confirmAll()
  publish('up.a', 'echo', { [CAME_DOWN_HEADER]: 'cloud' })
  publish('up.a', 'via remote', { [VIA_HEADER]: 'x,remote1' })
  publish('up.a', 'other bridge', { [CAME_DOWN_HEADER]: 'backup' })
  await settle()
  assert.deepEqual(
    remote.link.sent.map(s => s.body),
    ['via remote', 'other bridge'],
    'the remote is no Wharf: its id is unknown'
  )
  assert.equal(bridge.status().loopsSkipped, 1)
  await bridge.stop()
  const again = await setup()
  again.remote.nodeId = 'remote1'
  again.remote.link.lose()
  await settle()
  again.clock.advance(100)
  await settle()
  again.publish('up.a', 'via remote', { [VIA_HEADER]: 'x,remote1' })
  await settle()
  assert.deepEqual(
    again.remote.link.sent.map(s => s.body),
    []
  )
  assert.equal(again.bridge.status().loopsSkipped, 1)
  await again.bridge.stop()
})

test('backlog bound, block: publishers throttled past it, let go under 90% of it, nothing dropped', async () => {
  const { bridge, remote, publish, blocked } = await setup({ backlogBytesMax: 100, inflightMessagesMax: 1 })
  for (let i = 0; i < 11; i++) publish('up.a', 'x'.repeat(10))
  await settle()
  assert.equal(blocked.length, 1)
  assert.match(blocked[0] ?? '', /bridge cloud: backlog 110 B over bridges\[\]\.backlogBytesMax 100 B/)
  assert.equal(bridge.status().backlog.blockingPublishers, true)
  remote.link.confirmAll()
  await settle()
  assert.equal(blocked.length, 1, '100 bytes: still above 90% of the bound')
  remote.link.confirmAll()
  await settle()
  assert.deepEqual(blocked, [blocked[0], null])
  assert.equal(bridge.status().dropped, 0)
  await bridge.stop()
})

test('backlog bound, drop-oldest: the oldest not in flight go, counted', async () => {
  const { bridge, remote, publish } = await setup({ backlogBytesMax: 50, backlogPolicy: 'drop-oldest', inflightMessagesMax: 1 })
  for (let i = 0; i < 10; i++) publish('up.a', `m${i}`.padEnd(10, '.'))
  await settle()
  const s = bridge.status()
  assert.deepEqual([s.dropped, s.backlog.bytes, s.backlog.messages], [5, 50, 5])
  assert.deepEqual(
    remote.link.sent.map(m => m.body.slice(0, 2)),
    ['m0'],
    'the one in flight is kept'
  )
  for (let i = 0; i < 5; i++) {
    remote.link.confirmAll()
    await settle()
  }
  assert.equal(bridge.status().confirmed, 5)
  await bridge.stop()
})

test('the uplink rate cap holds messages back until the clock gives tokens', async () => {
  const { bridge, remote, clock, publish } = await setup({ uplinkMessagesPerSecondMax: 20 })
  for (let i = 0; i < 10; i++) publish('up.a', `m${i}`)
  await settle()
  assert.equal(remote.link.sent.length, 2, 'a tenth of a second of tokens')
  clock.advance(100)
  await settle()
  assert.equal(remote.link.sent.length, 4)
  await bridge.stop()
})

test('the downlink publishes locally with the mark, acknowledging after the commit; its own echo is dropped', async () => {
  const { bridge, remote, broker } = await setup({ in: { topics: ['cmd/#'], remotePrefix: 'cmd/', localPrefix: 'local/cmd/' } })
  const vhost = broker.vhost('/')!
  await vhost.declareQueue({ name: 'dev', durable: true, exclusive: false, autoDelete: false, arguments: {} }, {}, false)
  await vhost.bindQueue('dev', 'amq.topic', 'local.cmd.#', {}, {})
  const handle = remote.link.opts.downlink
  assert.ok(handle !== null)
  const down = (topic: string, via: string[]): Downlinked => ({
    topic,
    via,
    toMessage: (local, exchange, now, marks) =>
      new Message(exchange, local.replaceAll('/', '.'), { deliveryMode: 2, headers: marks }, Buffer.from(topic), now, null)
  })
  await handle(down('cmd/reboot', []))
  await handle(down('cmd/echo', ['n1']))
  const q = vhost.queueNamed('dev')!
  assert.equal(q.messageCount, 1)
  const { entry } = vhost.get('dev', true, {})
  assert.equal(entry?.message.routingKey, 'local.cmd.reboot')
  assert.equal(entry?.message.properties.headers?.[CAME_DOWN_HEADER], 'cloud')
  const s = bridge.status()
  assert.deepEqual([s.downlinked, s.echoesDropped], [1, 1])
  await bridge.stop()
})

test('stop closes the link and keeps the backlog in the queue', async () => {
  const { bridge, remote, publish, broker } = await setup()
  publish('up.a', 'kept')
  await settle()
  await bridge.stop()
  assert.equal(bridge.status().state, 'stopped')
  const q = broker.vhost('/')!.queueNamed('bridge/cloud')!
  assert.equal(q.messageCount, 1)
  assert.equal(q.consumerCount, 0)
  assert.equal(remote.links.length, 1)
})

test('the queue of a bridge no longer configured stops filling and keeps its messages', async () => {
  const { bridge, broker, publish } = await setup()
  publish('up.a', 'kept')
  await settle()
  await bridge.stop()
  const vhost = broker.vhost('/')!
  assert.deepEqual(await retireStaleBridgeQueues(vhost, 'amq.topic', ['other']), [{ queue: 'bridge/cloud', messages: 1 }])
  publish('up.a', 'not routed any more')
  assert.equal(vhost.queueNamed('bridge/cloud')?.messageCount, 1)
})
