import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import type { StreamRecord } from '../streams/stream-record.ts'
import { TRAILER_BYTES, decodeBlock, decodeSegment, encodeSegment, isSegmentFormatError, readSegmentIndex } from './segment-format.ts'
import { parseHeader } from './segment-index-json.ts'
import { encodeRecordLine } from './segment-record-json.ts'

const T0 = 1_700_000_000_000

function textRecord(offset: number, text: string): StreamRecord {
  return {
    offset,
    timestampMs: T0 + offset,
    exchange: 'amq.topic',
    routingKey: `sensors.${offset}`,
    properties: { deliveryMode: 2 },
    body: Buffer.from(text, 'utf8')
  }
}

function records(first: number, n: number): StreamRecord[] {
  return Array.from({ length: n }, (_, i) => textRecord(first + i, `reading ${first + i} ${'x'.repeat((i * 37) % 200)}`))
}

const header = { vhost: '/', stream: 'telemetry', createdAtMs: T0 + 5000 }

test('round trip: text, binary, empty and BOM bodies, properties with header tables', { timeout: 10_000 }, () => {
  const input: StreamRecord[] = [
    textRecord(100, 'plain text, ünïcödé, 🚢, "quotes" and a\nnewline'),
    { offset: 101, timestampMs: T0, exchange: '', routingKey: 'q', properties: {}, body: Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3]) },
    { offset: 102, timestampMs: T0, exchange: 'x', routingKey: '', properties: {}, body: Buffer.alloc(0) },
    { offset: 103, timestampMs: T0, exchange: 'x', routingKey: 'bom', properties: {}, body: Buffer.from('\uFEFFwith BOM', 'utf8') },
    {
      offset: 104,
      timestampMs: T0 + 1,
      exchange: 'amq.direct',
      routingKey: 'k',
      properties: {
        contentType: 'application/octet-stream',
        deliveryMode: 1,
        priority: 5,
        correlationId: 'c-1',
        expiration: '60000',
        timestamp: 1_700_000_000,
        headers: {
          s: 'text',
          n: 42,
          f: 1.5,
          b: true,
          nothing: null,
          bytes: Buffer.from([0, 1, 2, 255]),
          list: [1, 'two', Buffer.from('three'), { nested: Buffer.from([9]) }],
          table: { deeper: { x: 1 } },
          typed: { '!': 'timestamp', value: 1_700_000_000 },
          looksLikeATag: { $base64: 'not a buffer' },
          big: 12345678901234567890n
        }
      },
      body: Buffer.from('{"json":"body"}')
    }
  ]
  // A header literally named __proto__ needs defineProperty: in an object literal it means the prototype.
  const headers = input[4]!.properties.headers as Record<string, unknown>
  Object.defineProperty(headers, '__proto__', { value: 'a header named __proto__', enumerable: true, writable: true, configurable: true })

  const { bytes, index } = encodeSegment(header, input)
  assert.deepEqual(index.header, {
    format: 'wharf-segment',
    version: 1,
    vhost: '/',
    stream: 'telemetry',
    firstOffset: 100,
    lastOffset: 104,
    records: 5,
    createdAtMs: T0 + 5000
  })
  assert.equal(index.sizeBytes, bytes.length)
  const decoded = decodeSegment(bytes)
  assert.deepEqual(decoded.index, index)
  assert.deepEqual(decoded.records, input)
  const back = decoded.records[4]!.properties.headers as Record<string, unknown>
  assert.ok(Buffer.isBuffer(back.bytes))
  assert.equal(Object.getOwnPropertyDescriptor(back, '__proto__')?.value, 'a header named __proto__')
  assert.equal(Object.getPrototypeOf(back), Object.prototype)
})

test('many blocks: cut at blockBytesTarget, each decodable alone from its index range', { timeout: 10_000 }, () => {
  const input = records(1000, 500)
  const blockBytesTarget = 2048
  const { bytes, index } = encodeSegment(header, input, { blockBytesTarget })
  assert.ok(index.blocks.length > 10, `${index.blocks.length} blocks`)
  const decoded: StreamRecord[] = []
  for (const block of index.blocks) {
    const range = Buffer.from(bytes.subarray(block.byteOffset, block.byteOffset + block.byteLength))
    const blockRecords = decodeBlock(range, block)
    assert.equal(blockRecords.length, block.records)
    assert.equal(blockRecords[0]!.offset, block.firstOffset)
    assert.equal(blockRecords[0]!.timestampMs, block.firstTimestampMs)
    assert.equal(blockRecords.at(-1)!.timestampMs, block.lastTimestampMs)
    const lineBytes = blockRecords.reduce((sum, r) => sum + recordLineBytes(r), 0)
    assert.ok(lineBytes <= blockBytesTarget, `block ${block.firstOffset}-${block.lastOffset}: ${lineBytes} bytes`)
    // The next record would not have fit: blocks are cut late, not early.
    const next = input[block.lastOffset + 1 - 1000]
    if (next !== undefined) assert.ok(lineBytes + recordLineBytes(next) > blockBytesTarget)
    decoded.push(...blockRecords)
    // The whole object works as input too.
    assert.deepEqual(decodeBlock(bytes, block), blockRecords)
  }
  assert.deepEqual(decoded, input)
})

function recordLineBytes(r: StreamRecord): number {
  return Buffer.byteLength(encodeRecordLine(r)) + 1
}

test('a record larger than blockBytesTarget gets a block of its own', { timeout: 10_000 }, () => {
  const input = [textRecord(0, 'small'), textRecord(1, 'y'.repeat(5000)), textRecord(2, 'small')]
  const { index } = encodeSegment(header, input, { blockBytesTarget: 1000 })
  assert.deepEqual(
    index.blocks.map(b => [b.firstOffset, b.lastOffset]),
    [
      [0, 0],
      [1, 1],
      [2, 2]
    ]
  )
})

test('the trailer is TRAILER_BYTES long whatever the segment size', { timeout: 10_000 }, async () => {
  for (const n of [1, 7, 300, 3000]) {
    const { bytes, index } = encodeSegment(header, records(n * 13, n), { blockBytesTarget: 4096 })
    const tail = bytes.subarray(bytes.length - TRAILER_BYTES)
    // Stored (level 0): the trailer's JSON line is readable in the raw bytes.
    assert.match(tail.toString('latin1'), /\{"trailer":1,"indexOffset":"[0-9a-f]{16}","indexBytes":"[0-9a-f]{16}","sha256":"[0-9a-f]{64}"\}\n/)
    const last = index.blocks.at(-1)!
    const indexMatch = /"indexOffset":"([0-9a-f]{16})","indexBytes":"([0-9a-f]{16})"/.exec(tail.toString('latin1'))!
    assert.equal(parseInt(indexMatch[1]!, 16), last.byteOffset + last.byteLength)
    assert.equal(parseInt(indexMatch[1]!, 16) + parseInt(indexMatch[2]!, 16) + TRAILER_BYTES, bytes.length)
  }
})

test('SEGMENT-FORMAT.md states the trailer sizes the code has', async () => {
  const doc = await readFile(new URL('./SEGMENT-FORMAT.md', import.meta.url), 'utf8')
  const { bytes } = encodeSegment(header, records(0, 3))
  const line = gunzipSync(bytes.subarray(bytes.length - TRAILER_BYTES))
  assert.match(doc, new RegExp(`\`TRAILER_BYTES\` = ${TRAILER_BYTES} bytes`))
  assert.match(doc, new RegExp(`the ${line.length}-byte line`))
  assert.match(doc, new RegExp(`A fixed-width line \\(${line.length} bytes with its newline\\)`))
})

test('readSegmentIndex: two ranged reads, the index encodeSegment returned', { timeout: 10_000 }, async () => {
  const { bytes, index } = encodeSegment(header, records(0, 400), { blockBytesTarget: 4096 })
  const calls: Array<[number, number]> = []
  const getRange = async (offset: number, length: number): Promise<Buffer> => {
    calls.push([offset, length])
    return Buffer.from(bytes.subarray(offset, offset + length))
  }
  assert.deepEqual(await readSegmentIndex(getRange, bytes.length), index)
  assert.equal(calls.length, 2)
  assert.deepEqual(calls[0], [bytes.length - TRAILER_BYTES, TRAILER_BYTES])
  await assert.rejects(readSegmentIndex(getRange, bytes.length - 1), isSegmentFormatError)
  await assert.rejects(readSegmentIndex(getRange, 10), /too small for a segment/)
})

test('a flipped byte inside a block: decodeBlock names the block, decodeSegment reports the sha256 mismatch', { timeout: 10_000 }, () => {
  const { bytes, index } = encodeSegment(header, records(10, 60), { blockBytesTarget: 1024 })
  const block = index.blocks[2]!
  const corrupt = Buffer.from(bytes)
  // Inside the deflate data (after the 10-byte gzip header, before the 8-byte CRC/length trailer).
  const at = block.byteOffset + Math.floor(block.byteLength / 2)
  corrupt[at] = (corrupt[at] as number) ^ 0x5a
  assert.throws(
    () => decodeBlock(corrupt.subarray(block.byteOffset, block.byteOffset + block.byteLength), block),
    (err: Error) => {
      assert.ok(isSegmentFormatError(err))
      assert.match(err.message, new RegExp(`^segment block ${block.firstOffset}-${block.lastOffset}: `))
      return true
    }
  )
  assert.throws(() => decodeSegment(corrupt), /segment: sha256 mismatch/)
  // The other blocks still decode from their own ranges.
  const other = index.blocks[3]!
  assert.equal(decodeBlock(corrupt, other).length, other.records)
})

test('a block range against the wrong index entry is refused', { timeout: 10_000 }, () => {
  const { bytes, index } = encodeSegment(header, records(0, 60), { blockBytesTarget: 1024 })
  const [a, b] = [index.blocks[0]!, index.blocks[1]!]
  assert.throws(
    () => decodeBlock(bytes.subarray(a.byteOffset, a.byteOffset + a.byteLength), { ...b, byteLength: a.byteLength }),
    new RegExp(`segment block ${b.firstOffset}-${b.lastOffset}: (holds|line 1 has offset)`)
  )
})

test('a corrupt trailer or a truncated object is refused', { timeout: 10_000 }, () => {
  const { bytes } = encodeSegment(header, records(0, 5))
  const corrupt = Buffer.from(bytes)
  corrupt[corrupt.length - 20] = 0x41 // inside the trailer's JSON line: CRC-32 mismatch
  assert.throws(() => decodeSegment(corrupt), /segment trailer: not a gzip member/)
  assert.throws(() => decodeSegment(bytes.subarray(0, bytes.length - 1)), isSegmentFormatError)
  assert.throws(() => decodeSegment(gzipSync('{"not":"a segment"}\n')), isSegmentFormatError)
})

test('encodeSegment refuses empty and non-contiguous records and a bad blockBytesTarget', () => {
  assert.throws(() => encodeSegment(header, []), /encodeSegment \/\/telemetry: no records/)
  assert.throws(() => encodeSegment(header, [textRecord(1, 'a'), textRecord(3, 'b')]), /offsets not contiguous: record 1 has offset 3, expected 2/)
  assert.throws(() => encodeSegment(header, [textRecord(0, 'a')], { blockBytesTarget: 0 }), /blockBytesTarget must be a positive integer/)
})

test('a header of another format or version is refused by name', () => {
  const ok = { format: 'wharf-segment', version: 1, vhost: '/', stream: 's', firstOffset: 0, lastOffset: 0, records: 1, createdAtMs: 0 }
  assert.deepEqual(parseHeader(ok), ok)
  assert.throws(() => parseHeader({ ...ok, version: 2 }), /version 2 not supported \(this reader knows 1\)/)
  assert.throws(() => parseHeader({ ...ok, format: 'parquet' }), /format "parquet" is not "wharf-segment"/)
  assert.throws(() => parseHeader({ ...ok, records: 2 }), /offsets 0-0 do not hold 2 records/)
})

test('gzip -dc reads a segment file as JSON lines: header, records with their payloads, index, trailer', { timeout: 20_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wharf-segment-'))
  try {
    const input = [
      ...records(7, 200),
      {
        offset: 207,
        timestampMs: T0,
        exchange: 'x',
        routingKey: 'bin',
        properties: { headers: { raw: Buffer.from([1, 2]) } },
        body: Buffer.from([0xde, 0xad, 0xbe, 0xef])
      }
    ]
    const { bytes, index } = encodeSegment(header, input, { blockBytesTarget: 4096 })
    assert.ok(index.blocks.length > 3)
    const file = join(dir, 'x.seg')
    await writeFile(file, bytes)
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile('gzip', ['-dc', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 15_000 }, (err, out) => (err ? reject(err) : resolve(out)))
    })
    assert.ok(stdout.endsWith('\n'))
    const lines = stdout
      .slice(0, -1)
      .split('\n')
      .map(line => JSON.parse(line) as Record<string, unknown>)
    assert.equal(lines.length, 1 + input.length + 2)
    assert.deepEqual(lines[0], index.header)
    input.forEach((r, i) => {
      const line = lines[1 + i]!
      assert.equal(line.offset, r.offset)
      assert.equal(line.timestampMs, r.timestampMs)
      assert.equal(line.routingKey, r.routingKey)
      if (r.offset === 207) {
        assert.equal(line.payloadBase64, '3q2+7w==')
        assert.equal(line.payload, undefined)
        assert.deepEqual(line.properties, { headers: { raw: { $base64: 'AQI=' } } })
      } else {
        assert.equal(line.payload, r.body.toString('utf8'))
        assert.deepEqual(line.properties, { deliveryMode: 2 })
      }
    })
    const { sizeBytes, ...indexWithoutSize } = index
    assert.equal(sizeBytes, bytes.length)
    assert.deepEqual(lines.at(-2), { index: indexWithoutSize })
    const trailer = lines.at(-1)!
    assert.equal(trailer.trailer, 1)
    assert.match(String(trailer.sha256), /^[0-9a-f]{64}$/)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
