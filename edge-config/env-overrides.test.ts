import { test } from 'node:test'
import assert from 'node:assert/strict'
import { applyEnvOverrides, envOverrides } from './env-overrides.ts'
import { validateConfig } from './validate-config.ts'
import { defaultConfig } from './defaults.ts'

test('every variable is WHARF_*, unique, and sets a field that exists', () => {
  const names = envOverrides.map(o => o.name)
  assert.equal(new Set(names).size, names.length)
  const defaults = defaultConfig() as unknown as Record<string, unknown>
  for (const o of envOverrides) {
    assert.match(o.name, /^WHARF_[A-Z0-9_]+$/)
    const value = o.field.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], defaults)
    assert.notEqual(value, undefined, `${o.name} → ${o.field}`)
  }
})

test('values are converted by kind and written at their paths', () => {
  const { raw, fieldSources } = applyEnvOverrides(
    { mqtt: { ws: { path: '/ws' } } },
    {
      WHARF_MQTT_PORT: '11883',
      WHARF_WS_PORT: ' 18083 ',
      WHARF_ALLOW_ANONYMOUS: 'false',
      WHARF_LOG_LEVEL: 'debug',
      WHARF_MQTT_TLS_CERT_FILE: 'c.pem',
      WHARF_MQTT_TLS_KEY_FILE: 'k.pem'
    }
  )
  const c = validateConfig(raw)
  assert.equal(c.mqtt.port, 11883)
  assert.equal(c.mqtt.ws.port, 18083)
  assert.equal(c.mqtt.ws.path, '/ws', 'file values beside an override survive')
  assert.equal(c.auth.allowAnonymous, false)
  assert.equal(c.log.level, 'debug')
  assert.equal(c.mqtt.tls.certFile, 'c.pem')
  assert.equal(fieldSources['mqtt.port'], 'WHARF_MQTT_PORT')
  assert.equal(fieldSources['auth.allowAnonymous'], 'WHARF_ALLOW_ANONYMOUS')
})

test('booleans accept true/false, 1/0, yes/no, on/off', () => {
  for (const [text, want] of [
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['on', true],
    ['false', false],
    ['0', false],
    ['No', false],
    ['off', false]
  ] as const) {
    assert.equal(validateConfig(applyEnvOverrides({}, { WHARF_ALLOW_ANONYMOUS: text }).raw).auth.allowAnonymous, want, text)
  }
})

test('unset and empty variables change nothing; the input is not mutated', () => {
  const file = { mqtt: { port: 2000 } }
  const { raw, fieldSources } = applyEnvOverrides(file, { WHARF_MQTT_PORT: '', WHARF_HOST: undefined, PATH: '/bin' })
  assert.deepEqual(raw, { mqtt: { port: 2000 } })
  assert.deepEqual(fieldSources, {})
  const { raw: changed } = applyEnvOverrides(file, { WHARF_MQTT_PORT: '3000' })
  assert.deepEqual(changed, { mqtt: { port: 3000 } })
  assert.equal(file.mqtt.port, 2000)
})

test('values that do not parse are left for validation, which names the variable', () => {
  for (const [name, value, field] of [
    ['WHARF_MQTT_PORT', 'abc', 'mqtt.port'],
    ['WHARF_ADMIN_PORT', '80.5', 'admin.port'],
    ['WHARF_ALLOW_ANONYMOUS', 'maybe', 'auth.allowAnonymous'],
    ['WHARF_DURABILITY', 'disk', 'storage.durability'],
    ['WHARF_MQTT_MAX_PACKET_BYTES', '-1', 'mqtt.maxPacketBytes']
  ] as const) {
    const { raw, fieldSources } = applyEnvOverrides({}, { [name]: value })
    assert.throws(
      () => validateConfig(raw, 'wharf.yaml', { fieldSources }),
      (err: Error) => {
        assert.ok(err.message.startsWith(`config (${name}): ${field} = `), err.message)
        return true
      }
    )
  }
})

test('the tiering, stream, watermark and exchange variables set their fields', () => {
  const { raw, fieldSources } = applyEnvOverrides(
    {},
    {
      WHARF_TIERING_URL: 's3://wharf-segments/edge',
      WHARF_S3_ENDPOINT: 'http://versitygw:7070',
      WHARF_S3_REGION: 'eu-central-1',
      WHARF_S3_FORCE_PATH_STYLE: 'true',
      WHARF_TIERING_LOCAL_AGE_SECONDS: '60',
      WHARF_TIERING_LOCAL_BYTES_MAX: '1000000',
      WHARF_TIERING_CACHE_BYTES_MAX: '1048576',
      WHARF_SEGMENT_BYTES: '1048576',
      WHARF_SEGMENT_AGE_SECONDS: '30',
      WHARF_LOCAL_BYTES_MAX: '5000000',
      WHARF_MQTT_EXCHANGE: 'mqtt.topic'
    }
  )
  const c = validateConfig(raw, undefined, { fieldSources })
  assert.equal(c.tiering.url, 's3://wharf-segments/edge')
  assert.deepEqual(c.tiering.s3, { endpoint: 'http://versitygw:7070', region: 'eu-central-1', forcePathStyle: true })
  assert.equal(c.tiering.localAgeSeconds, 60)
  assert.equal(c.tiering.localBytesMax, 1000000)
  assert.equal(c.tiering.cacheBytesMax, 1048576)
  assert.equal(c.streams.segmentBytes, 1048576)
  assert.equal(c.streams.segmentAgeSeconds, 30)
  assert.equal(c.storage.localBytesMax, 5000000)
  assert.equal(c.mqtt.exchange, 'mqtt.topic')
  assert.equal(fieldSources['tiering.s3.forcePathStyle'], 'WHARF_S3_FORCE_PATH_STYLE')
})

test('bad tiering, stream, watermark and exchange values are refused naming the variable and the field', () => {
  const s3 = { WHARF_TIERING_URL: 's3://wharf-segments' }
  for (const [name, value, field, allowed, extra] of [
    ['WHARF_TIERING_URL', 's3://Bad_Bucket', 'tiering.url', /not an S3 bucket name/, {}],
    ['WHARF_TIERING_URL', '/var/cold', 'tiering.url', /scheme other than file: and s3:/, {}],
    ['WHARF_S3_ENDPOINT', 'ftp://store', 'tiering.s3.endpoint', /http or https is needed/, s3],
    ['WHARF_S3_ENDPOINT', 'http://store:9000', 'tiering.s3.endpoint', /only for s3:\/\/ tiering URLs/, {}],
    ['WHARF_S3_REGION', 'eu central', 'tiering.s3.region', /not a region name/, s3],
    ['WHARF_S3_FORCE_PATH_STYLE', 'sometimes', 'tiering.s3.forcePathStyle', /true or false/, s3],
    ['WHARF_TIERING_LOCAL_AGE_SECONDS', '1d', 'tiering.localAgeSeconds', /integer >= 0 seconds/, {}],
    ['WHARF_TIERING_LOCAL_BYTES_MAX', '-5', 'tiering.localBytesMax', /integer >= 0 bytes/, {}],
    ['WHARF_TIERING_CACHE_BYTES_MAX', '4096', 'tiering.cacheBytesMax', /integer >= 65536 bytes/, {}],
    ['WHARF_TIERING_CACHE_BYTES_MAX', '100000', 'tiering.cacheBytesMax', /2 \* streams\.blockBytes = 524288 bytes/, {}],
    ['WHARF_SEGMENT_BYTES', '16MiB', 'streams.segmentBytes', /integer >= 1024 bytes/, {}],
    ['WHARF_SEGMENT_BYTES', '2048', 'streams.blockBytes', /<= streams\.segmentBytes \(2048 bytes\)/, {}],
    ['WHARF_SEGMENT_AGE_SECONDS', '0', 'streams.segmentAgeSeconds', /integer >= 1 seconds/, {}],
    ['WHARF_LOCAL_BYTES_MAX', 'lots', 'storage.localBytesMax', /integer >= 0 bytes/, {}],
    ['WHARF_MQTT_EXCHANGE', 'amq.headers', 'mqtt.exchange', /only amq\.topic/, {}]
  ] as const) {
    const { raw, fieldSources } = applyEnvOverrides({}, { ...extra, [name]: value })
    assert.throws(
      () => validateConfig(raw, 'wharf.yaml', { fieldSources }),
      (err: Error) => {
        // A cross-field refusal is reported on the field it names; that field's source is the file here.
        const source = fieldSources[field] ?? 'wharf.yaml'
        assert.ok(err.message.startsWith(`config (${source}): ${field} = `), err.message)
        assert.match(err.message, allowed)
        return true
      },
      `${name}=${value}`
    )
  }
})

test('the S3 credentials are not configuration: AWS_* variables change nothing', () => {
  const { raw, fieldSources } = applyEnvOverrides({}, { AWS_ACCESS_KEY_ID: 'key', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-1' })
  assert.deepEqual(raw, {})
  assert.deepEqual(fieldSources, {})
})
