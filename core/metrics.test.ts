import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Metrics } from './metrics.ts'

test('counters are cells read on scrape, gauges and families are collected, histograms are cumulative with _sum and _count', async () => {
  const m = new Metrics()
  const mqtt = m.counter('wharf_x_total', 'X', { protocol: 'mqtt' })
  m.counter('wharf_x_total', 'X', { protocol: 'amqp' }).inc(3)
  mqtt.inc()
  mqtt.inc(2)
  assert.equal(m.counter('wharf_x_total', 'X', { protocol: 'mqtt' }).value, 3, 'the same labels are the same series')
  let total = 7
  m.counterFrom('wharf_y_total', 'Y', () => total)
  m.gaugeFamily('wharf_q', 'Q', ['vhost', 'queue'], emit => {
    emit({ vhost: '/', queue: 'a"b' }, 4)
    emit({ vhost: '/', queue: 'c' }, 1)
  })
  const h = m.histogram('wharf_l_seconds', 'L', [0.001, 0.01], ['protocol'])({ protocol: 'mqtt' })
  h.observe(0.0005)
  h.observe(0.005)
  h.observe(1)
  assert.equal(m.histogram('wharf_l_seconds', 'L', [0.001, 0.01], ['protocol']) !== undefined, true, 'asked for again by name')
  assert.deepEqual([m.value('wharf_x_total'), m.value('wharf_q'), m.value('wharf_l_seconds'), m.value('nothing')], [6, 5, 3, 0])
  total = 9
  const text = await m.render()
  assert.match(text, /# TYPE wharf_x_total counter\nwharf_x_total\{protocol="mqtt"\} 3\nwharf_x_total\{protocol="amqp"\} 3/)
  assert.match(text, /# TYPE wharf_y_total counter\nwharf_y_total 9/)
  assert.match(text, /wharf_q\{vhost="\/",queue="a\\"b"\} 4/)
  assert.match(
    text,
    /# TYPE wharf_l_seconds histogram\nwharf_l_seconds_bucket\{le="0.001",protocol="mqtt"\} 1\nwharf_l_seconds_bucket\{le="0.01",protocol="mqtt"\} 2\nwharf_l_seconds_bucket\{le="\+Inf",protocol="mqtt"\} 3\nwharf_l_seconds_sum\{protocol="mqtt"\} 1.0055\nwharf_l_seconds_count\{protocol="mqtt"\} 3/
  )
})

test('a family keeps its label names; a name is registered once; a failing source keeps its last values, the rest goes on', async () => {
  const m = new Metrics()
  m.counter('wharf_a_total', 'A', { vhost: '/' })
  assert.throws(() => m.counter('wharf_a_total', 'A', { queue: 'q' }), /wharf_a_total has labels \[vhost\], not \[queue\]/)
  assert.throws(() => m.gauge('wharf_a_total', 'A', () => 1), /registered twice/)
  let open = true
  m.gauge('wharf_store_bytes', 'B', () => {
    if (!open) throw new Error('store closed')
    return 42
  })
  m.gauge('wharf_fine', 'F', () => 2)
  assert.match(await m.render(), /^wharf_store_bytes 42$/m)
  open = false
  const text = await m.render()
  assert.match(text, /^wharf_fine 2$/m)
  assert.match(text, /^wharf_store_bytes 42$/m)
  assert.equal(m.value('wharf_store_bytes'), 0, 'value() of a failing source is 0')
})
