import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseSegmentKey, segmentKey, segmentPrefix } from './segment-name.ts'

test('segmentKey: fixed-width hex range under prefix/vhost/stream, vhost "/" encoded', () => {
  assert.equal(segmentKey('streams', '/', 'telemetry', 0, 31), 'streams/%2F/telemetry/0000000000000000-000000000000001f.seg')
  assert.equal(segmentKey('', 'prod', 'a b/c', 255, 4096), 'prod/a%20b%2Fc/00000000000000ff-0000000000001000.seg')
  assert.equal(segmentKey('cold/', '/', 's', 1, 1), 'cold/%2F/s/0000000000000001-0000000000000001.seg')
  assert.equal(segmentKey('a/b', '/', 's', 0, 0), 'a/b/%2F/s/0000000000000000-0000000000000000.seg')
  assert.equal(segmentKey('', '..', '.', 0, 0), '%2E%2E/%2E/0000000000000000-0000000000000000.seg')
  assert.equal(segmentKey('', 'v', 'orders.tmp-retry', 0, 0), 'v/orders%2Etmp-retry/0000000000000000-0000000000000000.seg')
  assert.equal(segmentKey('', 'v', 'sensor.readings', 0, 0), 'v/sensor.readings/0000000000000000-0000000000000000.seg')
  assert.equal(segmentKey('', 'v', 'x', Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER), 'v/x/001ffffffffffffe-001fffffffffffff.seg')
})

test('segmentKey refuses bad ranges and empty names', () => {
  assert.throws(() => segmentKey('p', '/', 's', 5, 4), /bad offset range 5-4/)
  assert.throws(() => segmentKey('p', '/', 's', -1, 4), /bad offset range/)
  assert.throws(() => segmentKey('p', '/', 's', 0.5, 4), /bad offset range/)
  assert.throws(() => segmentKey('p', '', 's', 0, 4), /empty vhost/)
  assert.throws(() => segmentKey('p', '/', '', 0, 4), /empty stream/)
})

test('parseSegmentKey inverts segmentKey', () => {
  const cases: Array<[string, string, string, number, number]> = [
    ['streams', '/', 'telemetry', 0, 31],
    ['', 'prod', 'a b/c%d', 255, 4096],
    ['deep/er/prefix', 'ünï', '🚢.logs', 7, 7],
    ['', '..', '.', 0, 1],
    ['', 'v', 'a.tmp-b.tmp-', 3, 9],
    ['x', 'v', 's', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]
  ]
  for (const [prefix, vhost, stream, firstOffset, lastOffset] of cases) {
    const key = segmentKey(prefix, vhost, stream, firstOffset, lastOffset)
    assert.deepEqual(parseSegmentKey(key), { prefix, vhost, stream, firstOffset, lastOffset }, key)
    assert.ok(key.startsWith(segmentPrefix(prefix, vhost, stream)))
  }
})

test('parseSegmentKey: anything segmentKey would not write is null', () => {
  for (const key of [
    'streams/%2F/telemetry/0000000000000000-000000000000001f.seg.tmp-abc',
    'streams/%2F/telemetry/0000000000000000-000000000000001F.seg', // upper-case hex
    'streams/%2F/telemetry/000000000000000-000000000000001f.seg', // 15 digits
    'streams/%2F/telemetry/000000000000001f-0000000000000000.seg', // last < first
    'streams/%2F/telemetry/0020000000000000-0020000000000000.seg', // beyond 2^53
    '%2F/0000000000000000-0000000000000001.seg', // no stream
    'streams/%2f/telemetry/0000000000000000-000000000000001f.seg', // not the canonical escape
    'streams/a/b/telemetry/extra/0000000000000000-000000000000001f', // no .seg
    'streams/%E0%A4%A/s/0000000000000000-0000000000000001.seg', // bad escape
    'streams//s/0000000000000000-0000000000000001.seg', // empty vhost
    'streams/v/../0000000000000000-0000000000000001.seg', // raw ".."
    'README.md'
  ])
    assert.equal(parseSegmentKey(key), null, key)
})

test('segmentPrefix ends in "/" so one stream does not list another that shares its start', () => {
  assert.equal(segmentPrefix('streams', '/', 'a'), 'streams/%2F/a/')
  assert.ok(!segmentKey('streams', '/', 'ab', 0, 1).startsWith(segmentPrefix('streams', '/', 'a')))
  assert.equal(segmentPrefix('', 'v', 's'), 'v/s/')
})

test('key order is offset order', () => {
  // A seeded walk of contiguous ranges whose lengths and positions cross digit-count boundaries.
  let seed = 12345
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }
  const ranges: Array<[number, number]> = []
  let next = 0
  while (ranges.length < 2000) {
    const length = 1 + Math.floor(random() ** 4 * 100_000)
    ranges.push([next, next + length - 1])
    next += length
    if (random() < 0.01 && next < 2 ** 44) next *= 16 // jump across hex digit counts (retention removed old ranges)
  }
  const keys = ranges.map(([a, b]) => segmentKey('streams', '/', 'telemetry', a, b))
  const shuffled = [...keys]
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[shuffled[i], shuffled[j]] = [shuffled[j] as string, shuffled[i] as string]
  }
  assert.deepEqual([...shuffled].sort(), keys)
  // And as S3 and the directory store compare keys: by UTF-8 bytes.
  assert.deepEqual(
    [...shuffled].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
    keys
  )
})
