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
    assert.match(o.name, /^WHARF_[A-Z_]+$/)
    const value = o.field.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], defaults)
    assert.notEqual(value, undefined, `${o.name} → ${o.field}`)
  }
})

test('values are converted by kind and written at their paths', () => {
  const { raw, fieldSources } = applyEnvOverrides({ mqtt: { ws: { path: '/ws' } } }, {
    WHARF_MQTT_PORT: '11883',
    WHARF_WS_PORT: ' 18083 ',
    WHARF_ALLOW_ANONYMOUS: 'false',
    WHARF_LOG_LEVEL: 'debug',
    WHARF_MQTT_TLS_CERT_FILE: 'c.pem',
    WHARF_MQTT_TLS_KEY_FILE: 'k.pem'
  })
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
  for (const [text, want] of [['TRUE', true], ['1', true], ['yes', true], ['on', true], ['false', false], ['0', false], ['No', false], ['off', false]] as const) {
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
    assert.throws(() => validateConfig(raw, 'wharf.yaml', { fieldSources }), (err: Error) => {
      assert.ok(err.message.startsWith(`config (${name}): ${field} = `), err.message)
      return true
    })
  }
})
