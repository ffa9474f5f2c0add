import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ManualClock } from '../manual-clock.ts'
import { silentLogger } from '../logger.ts'
import { UsageMeter } from './usage-meter.ts'
import { UsageRecorder } from './usage-recorder.ts'

const HOUR = 3_600_000

function setup(startMs: number): {
  clock: ManualClock
  meter: UsageMeter
  puts: Array<{ key: string; lines: Array<Record<string, unknown>> }>
  failNext: { on: boolean }
  recorder: UsageRecorder
} {
  const clock = new ManualClock(startMs)
  const meter = new UsageMeter()
  const puts: Array<{ key: string; lines: Array<Record<string, unknown>> }> = []
  const failNext = { on: false }
  const store = {
    description: 'memory',
    put: async (key: string, body: Buffer): Promise<void> => {
      if (failNext.on) throw new Error('connect ECONNREFUSED')
      puts.push({
        key,
        lines: body
          .toString()
          .trimEnd()
          .split('\n')
          .map(l => JSON.parse(l) as Record<string, unknown>)
      })
    }
  }
  const stored = new Map([['/', { localBytes: 100, coldBytes: 2000 }]])
  const recorder = new UsageRecorder({ meter, stored: () => stored, store, clock, intervalMs: HOUR, node: 'edge-1', keyPrefix: 'edge', logger: silentLogger })
  return { clock, meter, puts, failNext, recorder }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise(resolve => setImmediate(resolve))
}

test('hourly records on the hour: the traffic of each hour per vhost, user and protocol, and stored bytes', async () => {
  const t0 = Date.UTC(2024, 4, 1, 9, 40)
  const { clock, meter, puts, recorder } = setup(t0)
  recorder.start()
  const mqtt = meter.cell('/', null, 'mqtt')
  const amqp = meter.cell('/', 'billing', 'amqp')
  mqtt.messagesIn += 10
  mqtt.bytesIn += 1000
  amqp.messagesOut += 3
  amqp.bytesOut += 30
  clock.advance(20 * 60_000) // 10:00
  await settle()
  assert.equal(puts.length, 1)
  assert.equal(puts[0]!.key, 'edge/_usage/edge-1/20240501T094000.000Z-20240501T100000.000Z.jsonl')
  assert.deepEqual(puts[0]!.lines, [
    {
      type: 'traffic',
      node: 'edge-1',
      from: '2024-05-01T09:40:00.000Z',
      to: '2024-05-01T10:00:00.000Z',
      vhost: '/',
      user: null,
      protocol: 'mqtt',
      messagesIn: 10,
      bytesIn: 1000,
      messagesOut: 0,
      bytesOut: 0
    },
    {
      type: 'traffic',
      node: 'edge-1',
      from: '2024-05-01T09:40:00.000Z',
      to: '2024-05-01T10:00:00.000Z',
      vhost: '/',
      user: 'billing',
      protocol: 'amqp',
      messagesIn: 0,
      bytesIn: 0,
      messagesOut: 3,
      bytesOut: 30
    },
    { type: 'stored', node: 'edge-1', at: '2024-05-01T10:00:00.000Z', vhost: '/', localBytes: 100, coldBytes: 2000 }
  ])
  mqtt.messagesIn += 5
  clock.advance(HOUR) // 11:00: only the new traffic, and amqp (no change) is left out
  await settle()
  assert.equal(puts[1]!.key, 'edge/_usage/edge-1/20240501T100000.000Z-20240501T110000.000Z.jsonl')
  assert.deepEqual(
    puts[1]!.lines.filter(l => l.type === 'traffic').map(l => [l.protocol, l.messagesIn]),
    [['mqtt', 5]]
  )
})

test('a failed put loses nothing: the next record covers both spans; stop writes the partial interval', async () => {
  const t0 = Date.UTC(2024, 4, 1, 10, 0)
  const { clock, meter, puts, failNext, recorder } = setup(t0)
  recorder.start()
  const cell = meter.cell('/', null, 'mqtt')
  cell.messagesIn += 7
  failNext.on = true
  clock.advance(HOUR)
  await settle()
  assert.equal(puts.length, 0)
  assert.equal(recorder.status().failures, 1)
  assert.match(recorder.status().lastError ?? '', /usage records: put edge\/_usage\/edge-1\/\S+ to memory: connect ECONNREFUSED/)
  failNext.on = false
  cell.messagesIn += 1
  clock.advance(HOUR)
  await settle()
  assert.equal(puts.length, 1)
  assert.match(puts[0]!.key, /20240501T100000\.000Z-20240501T120000\.000Z/)
  assert.equal(puts[0]!.lines[0]!.messagesIn, 8)
  cell.messagesIn += 2
  clock.advance(15 * 60_000)
  await recorder.stop()
  assert.match(puts[1]!.key, /20240501T120000\.000Z-20240501T121500\.000Z/)
  assert.equal(puts[1]!.lines[0]!.messagesIn, 2)
  assert.equal(clock.pendingCount, 0)
})
