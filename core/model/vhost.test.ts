import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Broker } from './broker.ts'
import { Message, type MessageProperties } from './message.ts'
import { ManualClock } from '../manual-clock.ts'
import type { Queue, QueueConsumer } from './queue.ts'
import { ClassicQueue } from './classic-queue.ts'
import { queueTypes } from './queue-types/index.ts'
import type { QueueEntry } from './queue-entry.ts'
import type { Vhost } from './vhost.ts'
import { BrokerError } from '../errors.ts'

const owner = {}
const other = {}

function setup(): { vhost: Vhost; clock: ManualClock } {
  const clock = new ManualClock()
  const broker = new Broker({ vhosts: ['/'], clock })
  return { vhost: broker.vhost('/') as Vhost, clock }
}

function msg(routingKey: string, body = routingKey, properties: MessageProperties = {}, exchange = ''): Message {
  return new Message(exchange, routingKey, properties, Buffer.from(body), 0, null)
}

async function queue(
  v: Vhost,
  name: string,
  args: Record<string, unknown> = {},
  extra: Partial<{ durable: boolean; exclusive: boolean; autoDelete: boolean }> = {}
): Promise<string> {
  const q = await v.declareQueue({ name, durable: false, exclusive: false, autoDelete: false, arguments: args, ...extra }, owner, false)
  return q.name
}

class TestConsumer implements QueueConsumer {
  readonly got: Array<{ entry: QueueEntry; body: string; redelivered: boolean }> = []
  cancelled = false
  constructor(
    readonly tag: string,
    public credit = Infinity,
    readonly noAck = false,
    readonly exclusive = false
  ) {}
  hasCredit(): boolean {
    return this.credit > 0
  }
  deliver(entry: QueueEntry, redelivered: boolean): void {
    this.credit--
    this.got.push({ entry, body: entry.message.body.toString(), redelivered })
  }

  cancelledByQueue(): void {
    this.cancelled = true
  }
  bodies(): string[] {
    return this.got.map(g => g.body)
  }
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), kind: string, message?: RegExp): Promise<void> {
  await assert.rejects(
    async () => {
      await (typeof p === 'function' ? p() : p)
    },
    (err: unknown) => {
      assert.ok(err instanceof BrokerError, String(err))
      assert.equal(err.kind, kind, err.message)
      if (message) assert.match(err.message, message)
      return true
    }
  )
}

function consumeNow(v: Vhost, queue: string, consumer: QueueConsumer): Queue {
  const q = v.consume(queue, consumer, owner)
  q.dispatch()
  return q
}

/** The ready entries of a classic queue, in delivery order. */
function readyEntries(q: Queue | undefined): QueueEntry[] {
  if (q === undefined) return []
  assert.ok(q instanceof ClassicQueue)
  return [...q.ready.entries()]
}

function ready(v: Vhost, name: string): string[] {
  return readyEntries(v.queues.get(name)).map(e => e.message.body.toString())
}

describe('exchanges and routing', () => {
  test('every vhost has the default exchange and the amq.* exchanges', () => {
    const { vhost } = setup()
    assert.deepEqual([...vhost.exchanges.keys()].sort(), ['', 'amq.direct', 'amq.fanout', 'amq.headers', 'amq.match', 'amq.topic'])
    assert.equal(vhost.exchange('amq.match').type.name, 'headers')
  })

  test('default exchange routes by queue name; direct, fanout, topic by their rules', async () => {
    const { vhost } = setup()
    for (const n of ['q1', 'q2', 'q3']) await queue(vhost, n)
    await vhost.bindQueue('q1', 'amq.direct', 'k', {}, owner)
    await vhost.bindQueue('q2', 'amq.fanout', 'ignored', {}, owner)
    await vhost.bindQueue('q3', 'amq.topic', 'a.*.c', {}, owner)
    await vhost.bindQueue('q3', 'amq.topic', 'a.#', {}, owner) // two matching bindings: delivered once
    assert.equal(vhost.publish('', msg('q1', 'default')).routed, 1)
    assert.equal(vhost.publish('amq.direct', msg('k', 'direct')).routed, 1)
    assert.equal(vhost.publish('amq.direct', msg('other')).routed, 0)
    assert.equal(vhost.publish('amq.fanout', msg('x', 'fanout')).routed, 1)
    assert.equal(vhost.publish('amq.topic', msg('a.b.c', 'topic')).routed, 1)
    assert.deepEqual(ready(vhost, 'q1'), ['default', 'direct'])
    assert.deepEqual(ready(vhost, 'q2'), ['fanout'])
    assert.deepEqual(ready(vhost, 'q3'), ['topic'])
  })

  test('headers exchange: x-match all (default) and any; x- arguments ignored; void matches presence', async () => {
    const { vhost } = setup()
    for (const n of ['all', 'any', 'present']) await queue(vhost, n)
    await vhost.bindQueue('all', 'amq.headers', '', { a: 1, b: 'two', 'x-extra': 'ignored' }, owner)
    await vhost.bindQueue('any', 'amq.headers', '', { 'x-match': 'any', a: 1, b: 'two' }, owner)
    await vhost.bindQueue('present', 'amq.match', '', { c: null }, owner)
    vhost.publish('amq.headers', msg('', 'both', { headers: { a: 1, b: 'two' } }))
    vhost.publish('amq.headers', msg('', 'only-a', { headers: { a: 1 } }))
    vhost.publish('amq.headers', msg('', 'none'))
    vhost.publish('amq.match', msg('', 'c', { headers: { c: 'anything' } }))
    assert.deepEqual(ready(vhost, 'all'), ['both'])
    assert.deepEqual(ready(vhost, 'any'), ['both', 'only-a'])
    assert.deepEqual(ready(vhost, 'present'), ['c'])
    await rejectsWith(vhost.bindQueue('all', 'amq.headers', '', { 'x-match': 'some' }, owner), 'precondition-failed', /x-match/)
  })

  test('exchange-to-exchange bindings, cycles visited once, alternate-exchange per exchange', async () => {
    const { vhost } = setup()
    await queue(vhost, 'q')
    await queue(vhost, 'unrouted')
    const x = (name: string, type: string, args = {}): Promise<unknown> =>
      vhost.declareExchange({ name, type, durable: false, autoDelete: false, internal: false, arguments: args }, false)
    await x('ae', 'fanout')
    await x('front', 'direct', { 'alternate-exchange': 'ae' })
    await x('back', 'topic')
    await vhost.bindExchange('back', 'front', 'k', {})
    await vhost.bindExchange('front', 'back', '#', {}) // a cycle
    await vhost.bindQueue('q', 'back', '#', {}, owner)
    await vhost.bindQueue('unrouted', 'ae', '', {}, owner)
    assert.equal(vhost.publish('front', msg('k', 'via-back')).routed, 1)
    assert.equal(vhost.publish('front', msg('nope', 'to-ae')).routed, 1)
    assert.deepEqual(ready(vhost, 'q'), ['via-back'])
    assert.deepEqual(ready(vhost, 'unrouted'), ['to-ae'])
  })

  test('declare checks: reserved names, default exchange, unknown type, inequivalent redeclare, passive', async () => {
    const { vhost } = setup()
    const spec = { name: 'x', type: 'direct', durable: false, autoDelete: false, internal: false, arguments: {} }
    await vhost.declareExchange(spec, false)
    await vhost.declareExchange(spec, false)
    await rejectsWith(
      vhost.declareExchange({ ...spec, type: 'fanout' }, false),
      'precondition-failed',
      /inequivalent arg 'type' for exchange 'x' in vhost '\/': received 'fanout' but current is 'direct'/
    )
    await rejectsWith(vhost.declareExchange({ ...spec, name: 'amq.mine' }, false), 'access-refused', /reserved prefix/)
    await rejectsWith(vhost.declareExchange({ ...spec, name: '' }, false), 'access-refused')
    await rejectsWith(vhost.declareExchange({ ...spec, name: 'y', type: 'nope' }, false), 'invalid-request', /unknown exchange type 'nope'/)
    await rejectsWith(vhost.declareExchange({ ...spec, name: 'missing' }, true), 'not-found', /no exchange 'missing' in vhost '\/'/)
    await rejectsWith(vhost.deleteExchange('amq.direct', false), 'access-refused')
    await vhost.deleteExchange('never-declared', false)
  })

  test('internal exchanges refuse publishes; auto-delete exchanges go with their last binding', async () => {
    const { vhost } = setup()
    await vhost.declareExchange({ name: 'in', type: 'fanout', durable: false, autoDelete: true, internal: true, arguments: {} }, false)
    assert.throws(
      () => vhost.publish('in', msg('')),
      (e: BrokerError) => e.kind === 'access-refused'
    )
    await queue(vhost, 'q')
    await vhost.bindQueue('q', 'in', '', {}, owner)
    await vhost.unbindQueue('q', 'in', '', {}, owner)
    assert.equal(vhost.exchanges.has('in'), false)
  })
})

describe('queues', () => {
  test('server-named, exclusive (405 for others), inequivalent redeclare, if-unused / if-empty', async () => {
    const { vhost } = setup()
    const named = await queue(vhost, '')
    assert.match(named, /^amq\.gen-[A-Za-z0-9_-]{22}$/)
    await queue(vhost, 'mine', {}, { exclusive: true })
    await rejectsWith(vhost.declareQueue({ name: 'mine', durable: false, exclusive: true, autoDelete: false, arguments: {} }, other, false), 'resource-locked')
    await rejectsWith(async () => vhost.queue('mine', other), 'resource-locked')
    await rejectsWith(async () => vhost.queue('nope', owner), 'not-found', /no queue 'nope' in vhost '\/'/)
    await queue(vhost, 'args', { 'x-max-length': 5 })
    await rejectsWith(queue(vhost, 'args', { 'x-max-length': 6 }), 'precondition-failed', /inequivalent arg 'x-max-length'/)
    await rejectsWith(queue(vhost, 'bad', { 'x-max-length': -1 }), 'precondition-failed', /invalid arg 'x-max-length'/)
    await rejectsWith(queue(vhost, 'amq.x'), 'access-refused')
    await rejectsWith(queue(vhost, 'mqtt-session/dev'), 'access-refused')
    vhost.publish('', msg('args', 'one'))
    await rejectsWith(vhost.deleteQueue('args', { ifUnused: false, ifEmpty: true }, owner), 'precondition-failed', /is not empty/)
    const c = new TestConsumer('c')
    consumeNow(vhost, 'args', c)
    await rejectsWith(vhost.deleteQueue('args', { ifUnused: true, ifEmpty: false }, owner), 'precondition-failed', /in use/)
    assert.equal(await vhost.deleteQueue('args', { ifUnused: false, ifEmpty: false }, owner), 0)
    assert.ok(c.cancelled)
    await vhost.ownerClosed(owner)
    assert.equal(vhost.queues.has('mine'), false)
  })

  test('queue types by name (x-queue-type): classic without it or by name, equivalent; an unknown type and a stream without storage refused', async () => {
    const { vhost } = setup()
    await queue(vhost, 'plain')
    await queue(vhost, 'plain', { 'x-queue-type': 'classic' }) // the same declaration
    assert.equal(vhost.queue('plain', owner).type.name, 'classic')
    assert.equal(vhost.queue('plain', owner).type, queueTypes.get('classic'))
    await rejectsWith(
      queue(vhost, 'q', { 'x-queue-type': 'lazy' }),
      'precondition-failed',
      /invalid arg 'x-queue-type' for queue 'q' in vhost '\/': expected one of classic, quorum, stream, got 'lazy'/
    )
    await rejectsWith(queue(vhost, 's', { 'x-queue-type': 'stream' }, { durable: true }), 'not-implemented', /this broker has no stream storage/)
    assert.equal(vhost.queues.has('q') || vhost.queues.has('s'), false)
  })

  test('consumers: round robin within credit; requeued entries keep their place and are redelivered', async () => {
    const { vhost } = setup()
    await queue(vhost, 'q')
    for (let i = 1; i <= 6; i++) vhost.publish('', msg('q', `m${i}`))
    const a = new TestConsumer('a', 2)
    const b = new TestConsumer('b', 2)
    consumeNow(vhost, 'q', a)
    consumeNow(vhost, 'q', b)
    assert.deepEqual(a.bodies(), ['m1', 'm2'])
    assert.deepEqual(b.bodies(), ['m3', 'm4'])
    const q = vhost.queue('q', owner)
    assert.equal(q.unackedCount, 4)
    q.settle((a.got[0] as { entry: QueueEntry }).entry, 'acked')
    q.requeue([(b.got[1] as { entry: QueueEntry }).entry, (a.got[1] as { entry: QueueEntry }).entry])
    assert.deepEqual(ready(vhost, 'q'), ['m2', 'm4', 'm5', 'm6'])
    b.credit = 10
    q.dispatch()
    assert.deepEqual(
      b.got.slice(2).map(g => [g.body, g.redelivered]),
      [
        ['m2', true],
        ['m4', true],
        ['m5', false],
        ['m6', false]
      ]
    )
  })

  test('x-single-active-consumer: only the first consumer gets deliveries until it leaves', async () => {
    const { vhost } = setup()
    await queue(vhost, 'sac', { 'x-single-active-consumer': true })
    const a = new TestConsumer('a', 2)
    const b = new TestConsumer('b')
    consumeNow(vhost, 'sac', a)
    consumeNow(vhost, 'sac', b)
    for (let i = 1; i <= 4; i++) vhost.publish('', msg('sac', `m${i}`))
    assert.deepEqual([a.bodies(), b.bodies()], [['m1', 'm2'], []], 'the active one out of credit: the others still wait')
    vhost.cancel(vhost.queue('sac', owner), a)
    assert.deepEqual(b.bodies(), ['m3', 'm4'])
  })

  test('exclusive consumers refuse company (access-refused); auto-delete queues go with their last consumer', async () => {
    const { vhost } = setup()
    await queue(vhost, 'q', {}, { autoDelete: true })
    const a = new TestConsumer('a', Infinity, false, true)
    consumeNow(vhost, 'q', a)
    await rejectsWith(async () => vhost.consume('q', new TestConsumer('b'), owner), 'access-refused', /exclusive use/)
    vhost.cancel(vhost.queue('q', owner), a)
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(vhost.queues.has('q'), false)
  })

  test('x-max-length drop-head and reject-publish; x-max-length-bytes', async () => {
    const { vhost } = setup()
    await queue(vhost, 'head', { 'x-max-length': 2 })
    await queue(vhost, 'reject', { 'x-max-length': 2, 'x-overflow': 'reject-publish' })
    await queue(vhost, 'bytes', { 'x-max-length-bytes': 5 })
    for (const m of ['a', 'b', 'c']) {
      vhost.publish('', msg('head', m))
      vhost.publish('', msg('bytes', m + m))
    }
    assert.deepEqual(ready(vhost, 'head'), ['b', 'c'])
    assert.deepEqual(ready(vhost, 'bytes'), ['bb', 'cc'])
    assert.equal(vhost.publish('', msg('reject', '1')).rejected, false)
    vhost.publish('', msg('reject', '2'))
    const third = vhost.publish('', msg('reject', '3'))
    assert.equal(third.rejected, true)
    assert.equal(third.routed, 0)
    assert.deepEqual(ready(vhost, 'reject'), ['1', '2'])
  })

  test('x-max-priority: higher priority first, FIFO within a priority', async () => {
    const { vhost } = setup()
    await queue(vhost, 'p', { 'x-max-priority': 5 })
    for (const [body, priority] of [
      ['low1', 0],
      ['high', 9],
      ['mid', 3],
      ['low2', 0]
    ] as const)
      vhost.publish('', msg('p', body, { priority }))
    assert.deepEqual(ready(vhost, 'p'), ['high', 'mid', 'low1', 'low2'])
  })

  test('TTL (queue and per-message) expires at the head and dead-letters with x-death', async () => {
    const { vhost, clock } = setup()
    await queue(vhost, 'dlq')
    await queue(vhost, 'ttl', { 'x-message-ttl': 1000, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dlq' })
    vhost.publish('', msg('ttl', 'queue-ttl'))
    clock.advance(500)
    vhost.publish('', msg('ttl', 'short', { expiration: '100' }))
    clock.advance(499)
    assert.deepEqual(ready(vhost, 'ttl'), ['queue-ttl', 'short']) // 'short' waits behind the head, as in RabbitMQ
    clock.advance(1)
    await new Promise(resolve => queueMicrotask(() => resolve(undefined)))
    assert.deepEqual(ready(vhost, 'ttl'), [])
    assert.deepEqual(ready(vhost, 'dlq'), ['queue-ttl', 'short'])
    const dead = readyEntries(vhost.queue('dlq', owner))[1] as QueueEntry
    const death = (dead.message.properties.headers?.['x-death'] as Array<Record<string, unknown>>)[0] as Record<string, unknown>
    assert.equal(death.reason, 'expired')
    assert.equal(death.queue, 'ttl')
    assert.equal(death.count, 1)
    assert.equal(death['original-expiration'], '100')
    assert.deepEqual(death['routing-keys'], ['ttl'])
    assert.equal(dead.message.properties.expiration, undefined)
    assert.equal(dead.message.routingKey, 'dlq')
    assert.throws(
      () => vhost.publish('', msg('ttl', 'x', { expiration: 'soon' })),
      (e: BrokerError) => e.kind === 'precondition-failed' && /invalid expiration/.test(e.message)
    )
  })

  test('rejected without requeue and dropped at max-length are dead-lettered', async () => {
    const { vhost } = setup()
    await queue(vhost, 'dlq')
    await queue(vhost, 'src', { 'x-max-length': 1, 'x-dead-letter-exchange': 'amq.fanout' })
    await vhost.bindQueue('dlq', 'amq.fanout', '', {}, owner)
    vhost.publish('', msg('src', 'first'))
    vhost.publish('', msg('src', 'second')) // drops 'first' (maxlen)
    const c = new TestConsumer('c')
    const q = consumeNow(vhost, 'src', c)
    q.settle((c.got[0] as { entry: QueueEntry }).entry, 'rejected')
    await new Promise(resolve => setImmediate(resolve))
    const reasons = readyEntries(vhost.queue('dlq', owner)).map(e => [
      e.message.body.toString(),
      (e.message.properties.headers?.['x-death'] as Array<{ reason: string }>)[0]?.reason
    ])
    assert.deepEqual(reasons, [
      ['first', 'maxlen'],
      ['second', 'rejected']
    ])
  })

  test("a second death in the same queue for the same reason counts up and keeps the first one's time, as RabbitMQ", async () => {
    const { vhost, clock } = setup()
    // Rejected messages go round (RabbitMQ lets a cycle through when a death was a rejection).
    await queue(vhost, 'retry', { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'retry' })
    const q = vhost.queue('retry', owner) as Queue
    const c = new TestConsumer('c')
    q.addConsumer(c, {})
    clock.advance(5000)
    vhost.publish('', msg('retry', 'job'))
    q.dispatch()
    const firstDeathS = Math.floor(clock.nowMs() / 1000)
    q.settle((c.got[0] as { entry: QueueEntry }).entry, 'rejected')
    await new Promise(resolve => queueMicrotask(() => resolve(undefined)))
    clock.advance(7000)
    q.dispatch()
    q.settle((c.got[1] as { entry: QueueEntry }).entry, 'rejected')
    await new Promise(resolve => queueMicrotask(() => resolve(undefined)))
    q.dispatch()
    assert.equal(c.got.length, 3)
    const deaths = (c.got[2] as { entry: QueueEntry }).entry.message.properties.headers?.['x-death'] as Array<Record<string, unknown>>
    assert.equal(deaths.length, 1)
    assert.deepEqual([deaths[0]?.count, deaths[0]?.reason, deaths[0]?.queue], [2, 'rejected', 'retry'])
    assert.deepEqual(deaths[0]?.time, { '!': 'timestamp', value: firstDeathS }) // not the second's, 7 s later
  })

  test('x-expires deletes a queue unused that long; a consumer keeps it', async () => {
    const { vhost, clock } = setup()
    await queue(vhost, 'idle', { 'x-expires': 1000 })
    await queue(vhost, 'busy', { 'x-expires': 1000 })
    const c = new TestConsumer('c')
    consumeNow(vhost, 'busy', c)
    clock.advance(600)
    await vhost.declareQueue({ name: 'idle', durable: false, exclusive: false, autoDelete: false, arguments: { 'x-expires': 1000 } }, owner, true) // use
    clock.advance(600)
    assert.ok(vhost.queues.has('idle'))
    clock.advance(400)
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(vhost.queues.has('idle'), false)
    assert.ok(vhost.queues.has('busy'))
    vhost.cancel(vhost.queue('busy', owner), c)
    clock.advance(1000)
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(vhost.queues.has('busy'), false)
  })
})
