// `wharf segments list|dump` as a child process against segments in a directory object store.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { StreamRecord } from '../core/streams/stream-record.ts'
import { DirectoryObjectStore } from '../core/tiering/directory-object-store.ts'
import { encodeSegment } from '../core/tiering/segment-format.ts'
import { segmentKey } from '../core/tiering/segment-name.ts'
import { parseTieringUrl } from '../core/tiering/tiering-url.ts'
import { validateConfig } from '../edge-config/validate-config.ts'
import { configuredObjectStore } from '../gateway/tiering-wiring.ts'

const wharfBin = fileURLToPath(new URL('../gateway/bin/wharf.js', import.meta.url))
const T0 = 1_700_000_000_000

interface Run {
  code: number
  stdout: string
  stderr: string
}

function wharf(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise(resolve => {
    execFile(
      process.execPath,
      [wharfBin, ...args],
      { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
        resolve({ code, stdout, stderr })
      }
    )
  })
}

function recordsFrom(first: number, n: number): StreamRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    offset: first + i,
    timestampMs: T0 + i,
    exchange: 'amq.topic',
    routingKey: `sensors.${i % 3}`,
    properties: { contentType: 'text/plain', headers: { seq: i } },
    // Every seventh body is binary, the others text.
    body: i % 7 === 3 ? Buffer.from([0xff, i & 0xff, 0x00]) : Buffer.from(`temperature ${20 + i / 10}`)
  }))
}

describe('wharf segments', { timeout: 120_000 }, () => {
  let dir: string
  let coldDir: string
  let url: string
  const streams = [
    { vhost: '/', stream: 'telemetry', first: 0, n: 40 },
    { vhost: '/', stream: 'telemetry', first: 40, n: 25 },
    { vhost: 'site-2', stream: 'door events', first: 0, n: 3 }
  ]
  const written: Array<{ key: string; sizeBytes: number; records: StreamRecord[] }> = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wharf-segments-cli-'))
    coldDir = join(dir, 'data', 'cold')
    url = pathToFileURL(coldDir).href
    const store = new DirectoryObjectStore(coldDir)
    for (const s of streams) {
      const records = recordsFrom(s.first, s.n)
      const { bytes } = encodeSegment({ vhost: s.vhost, stream: s.stream, createdAtMs: T0 + 60_000 }, records, { blockBytesTarget: 512 })
      const key = segmentKey('streams', s.vhost, s.stream, s.first, s.first + s.n - 1)
      await store.put(key, bytes)
      written.push({ key, sizeBytes: bytes.length, records })
    }
    await store.put('streams/README.txt', Buffer.from('not a segment'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('list --url: one tab-separated row per segment in key order, other objects counted', async () => {
    const r = await wharf(['segments', 'list', '--url', url])
    assert.equal(r.code, 0, r.stderr)
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map(line => line.split('\t'))
    assert.deepEqual(rows[0], ['key', 'vhost', 'stream', 'firstOffset', 'lastOffset', 'bytes'])
    const expected = streams.map((s, i) => [written[i]!.key, s.vhost, s.stream, String(s.first), String(s.first + s.n - 1), String(written[i]!.sizeBytes)])
    expected.sort((a, b) => (a[0]! < b[0]! ? -1 : 1))
    assert.deepEqual(rows.slice(1), expected)
    const total = written.reduce((sum, w) => sum + w.sizeBytes, 0)
    assert.match(r.stderr, new RegExp(`^3 segments, ${total} bytes in dir .*cold \\(1 other object not listed\\)\\n$`))
  })

  test('list without --url reads the default cold tier <dataDir>/cold, and tiering.url from --config', async () => {
    const byDefault = await wharf(['segments', 'list'], { WHARF_DATA_DIR: join(dir, 'data') })
    assert.equal(byDefault.code, 0, byDefault.stderr)
    assert.equal(byDefault.stdout.trimEnd().split('\n').length, 4)
    const config = join(dir, 'wharf.yaml')
    await writeFile(config, `dataDir: ${JSON.stringify(join(dir, 'elsewhere'))}\ntiering:\n  url: ${JSON.stringify(url)}\n`)
    const byConfig = await wharf(['segments', 'list', '--config', config])
    assert.equal(byConfig.code, 0, byConfig.stderr)
    assert.equal(byConfig.stdout, byDefault.stdout)
    // --url wins over the configuration.
    const empty = await wharf(['segments', 'list', '--config', config, '--url', pathToFileURL(join(dir, 'empty')).href])
    assert.equal(empty.code, 0, empty.stderr)
    assert.equal(empty.stdout, 'key\tvhost\tstream\tfirstOffset\tlastOffset\tbytes\n')
    assert.match(empty.stderr, /^0 segments, 0 bytes/)
  })

  test('dump KEY: the header line, then every record with its payload as text or base64', async () => {
    const w = written[0]!
    const r = await wharf(['segments', 'dump', w.key, '--url', url])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map(line => JSON.parse(line) as Record<string, unknown>)
    assert.deepEqual(lines[0], {
      format: 'wharf-segment',
      version: 1,
      vhost: '/',
      stream: 'telemetry',
      firstOffset: 0,
      lastOffset: 39,
      records: 40,
      createdAtMs: T0 + 60_000
    })
    assert.equal(lines.length, 1 + w.records.length)
    w.records.forEach((record, i) => {
      const line = lines[1 + i]!
      assert.equal(line.offset, record.offset)
      assert.equal(line.timestampMs, record.timestampMs)
      assert.equal(line.exchange, 'amq.topic')
      assert.equal(line.routingKey, record.routingKey)
      assert.deepEqual(line.properties, { contentType: 'text/plain', headers: { seq: i } })
      if (i % 7 === 3) assert.equal(line.payloadBase64, record.body.toString('base64'))
      else assert.equal(line.payload, record.body.toString('utf8'))
    })
  })

  test('dump refuses a missing key and a corrupt segment, naming them', async () => {
    const missing = await wharf(['segments', 'dump', 'streams/%2F/telemetry/0000000000000000-00000000000000ff.seg', '--url', url])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^wharf segments dump \(dir .*cold\): .*0000000000000000-00000000000000ff\.seg: no such object\n$/)
    const store = new DirectoryObjectStore(coldDir)
    const w = written[2]!
    const bytes = await store.get(w.key)
    const at = Math.floor(bytes.length / 2)
    bytes[at] = (bytes[at] as number) ^ 0x01
    const corruptKey = 'corrupt/x.seg'
    await store.put(corruptKey, bytes)
    const corrupt = await wharf(['segments', 'dump', corruptKey, '--url', url])
    assert.equal(corrupt.code, 1)
    assert.match(corrupt.stderr, /corrupt\/x\.seg: segment: sha256 mismatch/)
    assert.equal(corrupt.stdout, '')
    await store.delete(corruptKey)
  })

  test('--url, tiering.url in the configuration and the broker take the same URLs, refusing with the same reason', async () => {
    const config = validateConfig({})
    for (const url of ['s3://a/x', 's3://abc//x', 's3://user:pw@abc/x', 's3://abc/x?region=y', 'file:relative', 'file://host/dir', 'ftp://x']) {
      const parsed = parseTieringUrl(url)
      assert.ok(parsed.kind === 'invalid', url)
      assert.throws(
        () => validateConfig({ tiering: { url } }),
        (err: Error) => err.message.includes(`tiering.url = ${JSON.stringify(url)}`) && err.message.includes(parsed.problem),
        url
      )
      // What the broker (tiering.url) and `wharf segments --url` open their store with.
      assert.throws(
        () => configuredObjectStore(config, {}, url),
        (err: Error) => err.message.includes(JSON.stringify(url)) && err.message.includes(parsed.problem),
        url
      )
    }
    for (const [url, description] of [
      ['s3://wharf-segments/site%20one/', 's3://wharf-segments/site%20one'],
      ['s3://wharf-segments', 's3://wharf-segments/'],
      ['file:///srv/wharf%20data/cold', 'dir /srv/wharf data/cold']
    ]) {
      assert.doesNotThrow(() => validateConfig({ tiering: { url } }), url)
      const store = configuredObjectStore(config, {}, url)
      assert.equal(store.description, description)
      await store.close()
    }
    const refused = await wharf(['segments', 'list', '--url', 's3://a/x'])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /"s3:\/\/a\/x" has bucket 'a', not an S3 bucket name/)
  })

  test('usage errors exit 2 with the usage text', async () => {
    for (const args of [['segments'], ['segments', 'dump'], ['segments', 'list', 'extra'], ['segments', 'frobnicate'], ['segments', 'list', '--bogus']]) {
      const r = await wharf(args)
      assert.equal(r.code, 2, args.join(' '))
      assert.match(r.stderr, /wharf segments list/, args.join(' '))
    }
    const help = await wharf(['segments', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /wharf segments dump KEY/)
    const badUrl = await wharf(['segments', 'list', '--url', 'ftp://x'])
    assert.equal(badUrl.code, 1)
    assert.match(badUrl.stderr, /ftp:\/\/x/)
  })
})
