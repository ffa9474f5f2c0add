import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLogger, textLine } from './logger.ts'

test('text format: time, level, component, message, then key=value with quoting where needed', () => {
  const lines: string[] = []
  const log = createLogger('info', l => lines.push(l), {}, 'text').child({ component: 'amqp' })
  log.debug('hidden')
  log.warn('connection closed', {
    user: 'guest',
    reason: 'closed by the client: 200 bye',
    replyCode: 200,
    vhost: '/',
    err: new Error('boom'),
    skipped: undefined,
    args: { a: 1 }
  })
  assert.equal(lines.length, 1)
  assert.match(
    lines[0]!,
    /^\d{4}-\d\d-\d\dT[\d:.]+Z WARN {2}amqp: connection closed user=guest reason="closed by the client: 200 bye" replyCode=200 vhost=\/ err=boom args=\{"a":1\}$/
  )
})

test('json format stays one JSON object per line with the child fields', () => {
  const lines: string[] = []
  createLogger('debug', l => lines.push(l))
    .child({ component: 'mqtt' })
    .info('mqtt client connected', { clientId: 'c1' })
  const o = JSON.parse(lines[0]!) as Record<string, unknown>
  assert.deepEqual([o.level, o.msg, o.component, o.clientId], ['info', 'mqtt client connected', 'mqtt', 'c1'])
})

test('text values: empty and quoted strings are quoted, null and booleans as words', () => {
  assert.equal(textLine('T', 'info', 'm', { a: '', b: 'x"y', c: null, d: true }), 'T INFO  m a="" b="x\\"y" c=null d=true')
})
