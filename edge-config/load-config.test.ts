import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from './load-config.ts'
import { defaultConfig } from './defaults.ts'
import { envOverrides } from './env-overrides.ts'
import { ConfigError } from './config-error.ts'

const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url))

function leafPaths(node: unknown, prefix = ''): string[] {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return [prefix]
  const entries = Object.entries(node)
  if (entries.length === 0) return [] // auth.defaultAcl: its optional lists are checked below
  return entries.flatMap(([key, value]) => leafPaths(value, prefix === '' ? key : `${prefix}.${key}`))
}

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-config-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const file = (name: string, text: string): string => {
    const p = join(dir, name)
    writeFileSync(p, text)
    return p
  }

  test('no file and no environment: the defaults', () => {
    assert.deepEqual(loadConfig({}), defaultConfig())
  })

  test('a YAML file overrides defaults field by field', () => {
    const c = loadConfig({ file: file('a.yaml', 'dataDir: /var/lib/wharf\nmqtt:\n  port: 11883\n  maxInflightMessages: 20\nstorage:\n  durability: power\n') })
    assert.equal(c.dataDir, '/var/lib/wharf')
    assert.equal(c.mqtt.port, 11883)
    assert.equal(c.mqtt.maxInflightMessages, 20)
    assert.equal(c.storage.durability, 'power')
    assert.equal(c.mqtt.ws.port, 8083)
  })

  test('precedence: environment > file > defaults', () => {
    const f = file('p.yaml', 'host: 127.0.0.1\nmqtt:\n  port: 2000\namqp:\n  port: 2001\n')
    const c = loadConfig({ file: f, env: { WHARF_MQTT_PORT: '3000', WHARF_ADMIN_PORT: '3001' } })
    assert.equal(c.mqtt.port, 3000, 'env over file')
    assert.equal(c.admin.port, 3001, 'env over default')
    assert.equal(c.amqp.port, 2001, 'file over default')
    assert.equal(c.host, '127.0.0.1')
    assert.equal(c.mqtt.ws.port, 8083, 'default')
  })

  test('tiering, streams, archive and the disk watermark load from the file, the environment over them', () => {
    const f = file(
      't.yaml',
      [
        'tiering:',
        '  url: s3://wharf-segments/from-file',
        '  s3:',
        '    endpoint: http://store:9000',
        '    forcePathStyle: true',
        '  prefetchWatermark: 0.75',
        'streams:',
        '  segmentBytes: 1048576',
        'storage:',
        '  localBytesMax: 4294967296',
        'archive:',
        '  - filter: devices/+/telemetry',
        '    stream: telemetry',
        '    maxAgeSeconds: 604800',
        ''
      ].join('\n')
    )
    const c = loadConfig({ file: f, env: { WHARF_TIERING_URL: 's3://wharf-segments/from-env', WHARF_SEGMENT_AGE_SECONDS: '60' } })
    assert.equal(c.tiering.url, 's3://wharf-segments/from-env', 'env over file')
    assert.deepEqual(c.tiering.s3, { endpoint: 'http://store:9000', region: null, forcePathStyle: true })
    assert.equal(c.tiering.prefetchWatermark, 0.75)
    assert.equal(c.streams.segmentBytes, 1048576)
    assert.equal(c.streams.segmentAgeSeconds, 60)
    assert.equal(c.storage.localBytesMax, 4294967296)
    assert.deepEqual(c.archive, [{ filter: 'devices/+/telemetry', stream: 'telemetry', maxAgeSeconds: 604800 }])
    assert.throws(() => loadConfig({ file: f, env: { WHARF_LOCAL_BYTES_MAX: '1000' } }), {
      message: `config (${f}): tiering.localBytesMax = 1073741824: must be below storage.localBytesMax (1000 bytes), or publishers are refused before sealed segments are offloaded`
    })
  })

  test('relative dataDir is kept as written (relative to the process cwd)', () => {
    assert.equal(loadConfig({ file: file('r.yaml', 'dataDir: var/wharf\n') }).dataDir, 'var/wharf')
  })

  test('an empty or comment-only file gives the defaults', () => {
    assert.deepEqual(loadConfig({ file: file('e.yaml', '') }), defaultConfig())
    assert.deepEqual(loadConfig({ file: file('c.yaml', '# nothing\nmqtt:\n  # port: 1\n') }), defaultConfig())
  })

  test('a bad file value names the file; a bad env value names the variable', () => {
    const f = file('bad.yaml', 'mqtt:\n  port: 70000\n')
    assert.throws(() => loadConfig({ file: f }), { message: `config (${f}): mqtt.port = 70000: must be an integer port 1-65535, or 0 for any free port` })
    assert.throws(() => loadConfig({ file: file('ok.yaml', 'host: 127.0.0.1\n'), env: { WHARF_MQTT_PORT: 'abc' } }), {
      message: 'config (WHARF_MQTT_PORT): mqtt.port = "abc": must be an integer port 1-65535, or 0 for any free port'
    })
  })

  test('an unreadable file is named with the cause', () => {
    const missing = join(dir, 'missing.yaml')
    assert.throws(
      () => loadConfig({ file: missing }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError)
        assert.equal(err.source, missing)
        assert.match(err.message, new RegExp(`^config \\(${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): cannot read config file: ENOENT`))
        return true
      }
    )
    assert.throws(() => loadConfig({ file: dir }), /cannot read config file: EISDIR/)
  })

  test("bad YAML is named with the file and the parser's position", () => {
    const f = file('broken.yaml', 'mqtt: [unclosed\n')
    assert.throws(
      () => loadConfig({ file: f }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError)
        assert.match(err.message, /broken\.yaml\): bad YAML: .*line \d+, column \d+/)
        return true
      }
    )
    assert.throws(() => loadConfig({ file: file('dup.yaml', 'mqtt:\n  port: 1\n  port: 2\n') }), /bad YAML: Map keys must be unique/)
  })

  test('the commented example config is valid and documents the true defaults', () => {
    assert.deepEqual(loadConfig({ file: here('./wharf.example.yaml') }), defaultConfig())
  })

  test('CONFIG-REFERENCE.md lists every field and every environment variable', () => {
    const reference = readFileSync(here('./CONFIG-REFERENCE.md'), 'utf8')
    const example = readFileSync(here('./wharf.example.yaml'), 'utf8')
    for (const path of leafPaths(defaultConfig())) {
      assert.ok(reference.includes(`| \`${path}\` |`), `reference lacks ${path}`)
      const key = path.split('.').at(-1) as string
      assert.ok(example.includes(`${key}:`), `example lacks ${path}`)
    }
    for (const field of ['publish', 'subscribe']) assert.ok(reference.includes(`| \`auth.defaultAcl.${field}\` |`))
    for (const field of ['filter', 'stream', 'maxAgeSeconds', 'maxLengthBytes']) {
      assert.ok(reference.includes(`| \`archive[].${field}\` |`), `reference lacks archive[].${field}`)
      assert.ok(example.includes(`${field}:`), `example lacks archive[].${field}`)
    }
    for (const o of envOverrides) assert.ok(reference.includes(`| \`${o.name}\` | \`${o.field}\` |`), `reference lacks ${o.name}`)
  })
})
