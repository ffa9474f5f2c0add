import assert from 'node:assert/strict'
import { test } from 'node:test'
import { figure, runQuickBench } from './bench-cli-run.ts'
import type { RunRecord } from './bench-runner.ts'
import { findMosquitto, MOSQUITTO_MISSING } from './brokers/mosquitto.ts'

const RUN_TIMEOUT_MS = 55_000

test('bench --quick: fanin-qos1 and latency-qos1 against Mosquitto lose nothing', { timeout: 180_000 }, async () => {
  assert.ok(findMosquitto() !== undefined, MOSQUITTO_MISSING)
  const { results } = await runQuickBench('mosquitto', ['fanin-qos1', 'latency-qos1'], RUN_TIMEOUT_MS)
  const [fanin, latency] = results as [RunRecord, RunRecord]

  assert.equal(fanin.lost, 0)
  assert.ok(figure(fanin, 'deliveryRate') > 0)
  assert.ok(figure(fanin, 'publishRate') > 0)
  assert.equal(figure(fanin, 'delivered'), figure(fanin, 'sent') + figure(fanin, 'duplicates'))

  assert.equal(latency.lost, 0)
  assert.ok(figure(latency, 'sent') > 0)
  for (const key of ['p50', 'p99', 'max']) assert.ok(figure(latency, key) > 0, `latency ${key}`)
  assert.ok(figure(latency, 'p50') <= figure(latency, 'p99'))
  assert.ok(figure(latency, 'laterHalfP99') > 0, 'latency p99 over the second half of the run')
  // --quick: 500 msg/s for 2 s, so one count of slow messages for each of the 2 seconds.
  assert.match(latency.notes.join('\n'), /messages over 1 ms in each second of the measured run: \d+ \d+;/)

  for (const record of results) assert.ok((record.memory?.rssBytes ?? 0) > 0, `${record.scenario}: broker RSS`)
})

test('bench --quick: the AMQP scenarios against Wharf lose nothing', { timeout: 180_000 }, async () => {
  const { results } = await runQuickBench('wharf', ['amqp-publish-confirm', 'amqp-consume-ack', 'amqp-e2e'], RUN_TIMEOUT_MS)
  const [publish, consume, e2e] = results as [RunRecord, RunRecord, RunRecord]

  assert.ok(figure(publish, 'confirmRate') > 0)
  assert.equal(figure(publish, 'confirmed'), figure(publish, 'sent'))
  assert.equal(figure(publish, 'queueDepth'), figure(publish, 'confirmed'))
  assert.ok(figure(publish, 'p50') <= figure(publish, 'p99'))

  assert.ok(figure(consume, 'consumeRate') > 0)
  assert.equal(figure(consume, 'delivered'), figure(consume, 'sent'))
  assert.equal(figure(consume, 'queueDepthAfter'), 0)

  assert.ok(figure(e2e, 'sent') > 0)
  assert.ok(figure(e2e, 'p50') > 0 && figure(e2e, 'p50') <= figure(e2e, 'p99'))

  for (const record of results) {
    assert.equal(record.lost, 0, `${record.scenario}: lost`)
    assert.equal(record.duplicates, 0, `${record.scenario}: duplicates`)
    assert.ok((record.memory?.rssBytes ?? 0) > 0, `${record.scenario}: broker RSS`)
  }
})

test('bench --quick: the cross-protocol scenarios against Wharf lose nothing', { timeout: 180_000 }, async () => {
  const { results, output } = await runQuickBench('wharf', ['cross-mqtt-amqp', 'cross-mqtt-amqp-10k', 'cross-amqp-ws', 'cross-amqp-ws-10k'], RUN_TIMEOUT_MS)
  for (const record of results) {
    assert.equal(record.lost, 0, `${record.scenario}: lost`)
    assert.equal(record.duplicates, 0, `${record.scenario}: duplicates`)
    assert.ok(figure(record, 'sent') > 0, `${record.scenario}: sent`)
    // The receiver also got the unmeasured warm-up, so it counts more than the measured sent.
    assert.ok(figure(record, 'received') > figure(record, 'sent'), `${record.scenario}: received`)
    assert.ok(figure(record, 'p50') > 0 && figure(record, 'p50') <= figure(record, 'p99'), `${record.scenario}: p50 <= p99`)
    assert.ok((record.memory?.rssBytes ?? 0) > 0, `${record.scenario}: broker RSS`)
  }
  assert.ok(output.includes('Wharf only'), 'the report says why no other broker runs the cross-protocol scenarios')
})
