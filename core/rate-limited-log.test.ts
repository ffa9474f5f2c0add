import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RateLimitedLog } from './rate-limited-log.ts'
import { ManualClock } from './manual-clock.ts'
import { createLogger } from './logger.ts'

function setup(): { clock: ManualClock; lines: Array<Record<string, unknown>>; log: RateLimitedLog } {
  const clock = new ManualClock()
  const lines: Array<Record<string, unknown>> = []
  const log = new RateLimitedLog(
    createLogger('debug', l => {
      lines.push(JSON.parse(l) as Record<string, unknown>)
    }),
    10_000,
    clock
  )
  return { clock, lines, log }
}

test('an overload of one warning writes the first line, then one line per interval with the count held back', () => {
  const { clock, lines, log } = setup()
  for (let i = 0; i < 16_645; i++) log.warn('message dropped', { queue: 'q', n: i })
  assert.equal(lines.length, 1)
  assert.deepEqual([lines[0]!.msg, lines[0]!.n, lines[0]!.suppressed], ['message dropped', 0, undefined])
  clock.advance(10_000) // the interval ends: its count is written though nothing more came
  assert.equal(lines.length, 2)
  assert.deepEqual([lines[1]!.msg, lines[1]!.suppressed, lines[1]!.n, lines[1]!.intervalSeconds], ['message dropped', 16_644, 16_644, 10])
  clock.advance(60_000)
  assert.equal(lines.length, 2, 'no line for an interval with nothing held back')
})

test('a sustained overload writes one line per interval; different messages and levels are limited apart', () => {
  const { clock, lines, log } = setup()
  for (let s = 0; s < 30; s++) {
    log.warn('refused', { s })
    log.error('refused', { s })
    log.warn('other')
    clock.advance(1000)
  }
  clock.advance(10_000)
  const warns = lines.filter(l => l.level === 'warn' && l.msg === 'refused')
  assert.deepEqual(
    warns.map(l => l.suppressed),
    [undefined, 9, 10, 10]
  )
  assert.equal(
    warns.reduce((n, l) => n + Number(l.suppressed ?? 1), 0),
    30,
    'every occurrence is written once or counted in a summary line'
  )
  assert.equal(lines.filter(l => l.level === 'error').length, 4)
  assert.equal(lines.filter(l => l.msg === 'other').length, 4)
})

test('a warning after a quiet interval is written at once; close() writes what is held back', () => {
  const { clock, lines, log } = setup()
  log.info('a')
  clock.advance(10_001)
  log.info('a')
  assert.equal(lines.length, 2)
  log.info('a')
  log.info('a')
  log.close()
  assert.equal(lines.at(-1)!.suppressed, 2)
  assert.equal(clock.pendingCount, 0, 'no timer left behind')
})
