import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { validateConfig } from './validate-config.ts'
import { defaultConfig } from './defaults.ts'
import { ConfigError } from './config-error.ts'
import { hashPassword } from '../core/auth/password-hash.ts'

const hash = hashPassword('secret')

function refusal (raw: unknown, source?: string): ConfigError {
  try {
    validateConfig(raw, source)
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`)
    return err
  }
  assert.fail(`accepted ${JSON.stringify(raw)}`)
}

describe('validateConfig: defaults and merging', () => {
  test('the embedded defaults are valid and are what an empty config gives', () => {
    assert.deepEqual(validateConfig({}), defaultConfig())
    assert.deepEqual(validateConfig(undefined), defaultConfig())
    assert.deepEqual(validateConfig(defaultConfig()), defaultConfig())
  })

  test('the defaults are the documented values', () => {
    const c = defaultConfig()
    assert.equal(c.dataDir, './data')
    assert.equal(c.mqtt.port, 1883)
    assert.equal(c.mqtt.ws.port, 8083)
    assert.equal(c.mqtt.ws.path, '/mqtt')
    assert.equal(c.amqp.port, 5672)
    assert.equal(c.admin.port, 8080)
    assert.equal(c.mqtt.maxPacketBytes, 16 * 1024 * 1024)
    assert.equal(c.mqtt.maxQueuedBytes, 256 * 1024 * 1024)
    assert.equal(c.storage.durability, 'process')
    assert.notEqual(defaultConfig().mqtt, c.mqtt, 'a fresh object per call')
  })

  test('a partial config overrides only what it names', () => {
    const c = validateConfig({ mqtt: { port: 11883, ws: { path: '/ws' } }, log: { level: 'debug' } })
    assert.equal(c.mqtt.port, 11883)
    assert.equal(c.mqtt.ws.path, '/ws')
    assert.equal(c.mqtt.ws.port, 8083)
    assert.equal(c.mqtt.tls.port, 8883)
    assert.equal(c.log.level, 'debug')
    assert.equal(c.amqp.port, 5672)
  })

  test('a null section (a YAML key with only comments under it) keeps its defaults', () => {
    assert.deepEqual(validateConfig({ mqtt: null, auth: { users: null, defaultAcl: null } }), defaultConfig())
  })

  test('port 0 (any free port) is allowed, also on several listeners', () => {
    const c = validateConfig({ mqtt: { port: 0, ws: { port: 0 } }, amqp: { port: 0 }, admin: { port: 0 } })
    assert.equal(c.mqtt.port, 0)
    assert.equal(c.admin.port, 0)
  })

  test('disabled TLS listeners may share a port with enabled ones', () => {
    assert.equal(validateConfig({ mqtt: { tls: { port: 1883 } } }).mqtt.tls.port, 1883)
  })

  test('users with ACLs and optional fields are kept as written', () => {
    const c = validateConfig({
      auth: {
        allowAnonymous: false,
        users: [
          { username: 'sensor', passwordHash: hash, publish: ['devices/%c/#'], subscribe: [] },
          { username: 'admin', passwordHash: hash, vhosts: ['/', 'prod'] }
        ],
        defaultAcl: { subscribe: ['public/#'] }
      }
    })
    assert.deepEqual(c.auth.users[0], { username: 'sensor', passwordHash: hash, publish: ['devices/%c/#'], subscribe: [] })
    assert.deepEqual(c.auth.users[1], { username: 'admin', passwordHash: hash, vhosts: ['/', 'prod'] })
    assert.equal('publish' in (c.auth.users[1] ?? {}), false, 'absent lists stay absent')
    assert.deepEqual(c.auth.defaultAcl, { subscribe: ['public/#'] })
  })

  test('TLS is enabled with both cert and key', () => {
    const c = validateConfig({ mqtt: { tls: { certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem' } } })
    assert.equal(c.mqtt.tls.certFile, 'c.pem')
  })
})

describe('validateConfig: refusals name field, value and what is allowed', () => {
  const cases: Array<{ name: string, raw: unknown, field: string, value: unknown, allowed: RegExp }> = [
    { name: 'port out of range', raw: { mqtt: { port: 70000 } }, field: 'mqtt.port', value: 70000, allowed: /integer port 1-65535/ },
    { name: 'negative port', raw: { admin: { port: -1 } }, field: 'admin.port', value: -1, allowed: /integer port/ },
    { name: 'port as string', raw: { amqp: { port: '5672' } }, field: 'amqp.port', value: '5672', allowed: /integer port/ },
    { name: 'wrong type for a string', raw: { host: 5 }, field: 'host', value: 5, allowed: /non-empty string/ },
    { name: 'empty dataDir', raw: { dataDir: '' }, field: 'dataDir', value: '', allowed: /non-empty string/ },
    { name: 'wrong type for a boolean', raw: { auth: { allowAnonymous: 'yes' } }, field: 'auth.allowAnonymous', value: 'yes', allowed: /true or false/ },
    { name: 'bad enum', raw: { storage: { durability: 'sometimes' } }, field: 'storage.durability', value: 'sometimes', allowed: /one of process, power/ },
    { name: 'bad log level', raw: { log: { level: 'verbose' } }, field: 'log.level', value: 'verbose', allowed: /debug, info, warn, error/ },
    { name: 'bad overflow policy', raw: { mqtt: { queueOverflow: 'drop' } }, field: 'mqtt.queueOverflow', value: 'drop', allowed: /drop-oldest, drop-newest/ },
    { name: 'negative limit', raw: { mqtt: { maxQueuedMessages: -5 } }, field: 'mqtt.maxQueuedMessages', value: -5, allowed: /integer 0-/ },
    { name: 'non-integer limit', raw: { mqtt: { maxInflightMessages: 1.5 } }, field: 'mqtt.maxInflightMessages', value: 1.5, allowed: /integer 1-65535/ },
    { name: 'zero where one is the least', raw: { storage: { commitBatchMax: 0 } }, field: 'storage.commitBatchMax', value: 0, allowed: /integer 1-/ },
    { name: 'client id limit below MQTT minimum', raw: { mqtt: { maxClientIdLength: 10 } }, field: 'mqtt.maxClientIdLength', value: 10, allowed: /at least 23/ },
    { name: 'ws path without slash', raw: { mqtt: { ws: { path: 'mqtt' } } }, field: 'mqtt.ws.path', value: 'mqtt', allowed: /starting with '\/'/ },
    { name: 'section of the wrong type', raw: { mqtt: 1883 }, field: 'mqtt', value: 1883, allowed: /mapping with keys port, tls/ },
    { name: 'top level not a mapping', raw: ['a'], field: '(top level)', value: ['a'], allowed: /mapping with keys dataDir/ },
    { name: 'unknown top-level key', raw: { prot: 1 }, field: 'prot', value: 1, allowed: /unknown key; allowed keys: dataDir, host, log/ },
    { name: 'unknown nested key', raw: { mqtt: { prot: 1883 } }, field: 'mqtt.prot', value: 1883, allowed: /unknown key; allowed keys under mqtt: port, tls, ws/ },
    { name: 'TLS cert without key', raw: { mqtt: { tls: { certFile: 'c.pem' } } }, field: 'mqtt.tls.keyFile', value: null, allowed: /together with mqtt.tls.certFile/ },
    { name: 'TLS key without cert', raw: { mqtt: { ws: { tls: { keyFile: 'k.pem' } } } }, field: 'mqtt.ws.tls.certFile', value: null, allowed: /together with mqtt.ws.tls.keyFile/ },
    { name: 'CA without cert and key', raw: { mqtt: { tls: { caFile: 'ca.pem' } } }, field: 'mqtt.tls.caFile', value: 'ca.pem', allowed: /needs mqtt.tls.certFile/ },
    { name: 'enabled listeners on one port', raw: { admin: { port: 1883 } }, field: 'admin.port', value: 1883, allowed: /must differ from mqtt.port/ },
    {
      name: 'enabled TLS listener on a taken port',
      raw: { mqtt: { tls: { port: 5672, certFile: 'c.pem', keyFile: 'k.pem' } } },
      field: 'amqp.port',
      value: 5672,
      allowed: /must differ from mqtt.tls.port/
    },
    { name: 'users not a list', raw: { auth: { users: { bob: 1 } } }, field: 'auth.users', value: { bob: 1 }, allowed: /must be a list/ },
    { name: 'user without username', raw: { auth: { users: [{ passwordHash: hash }] } }, field: 'auth.users[0].username', value: undefined, allowed: /is required/ },
    { name: 'user without hash', raw: { auth: { users: [{ username: 'a' }] } }, field: 'auth.users[0].passwordHash', value: undefined, allowed: /is required/ },
    { name: 'hash not scrypt', raw: { auth: { users: [{ username: 'a', passwordHash: 'hunter2' }] } }, field: 'auth.users[0].passwordHash', value: 'hunter2', allowed: /scrypt\$<N>/ },
    {
      name: 'duplicate usernames',
      raw: { auth: { users: [{ username: 'a', passwordHash: hash }, { username: 'a', passwordHash: hash }] } },
      field: 'auth.users[1].username',
      value: 'a',
      allowed: /unique \(already used by auth.users\[0\]\)/
    },
    { name: 'unknown key in a user', raw: { auth: { users: [{ username: 'a', passwordHash: hash, pasword: 'x' }] } }, field: 'auth.users[0].pasword', value: 'x', allowed: /allowed keys under auth.users\[0\]: username, passwordHash/ },
    { name: 'bad ACL pattern', raw: { auth: { defaultAcl: { publish: ['a/#/b'] } } }, field: 'auth.defaultAcl.publish[0]', value: 'a/#/b', allowed: /MQTT topic filter/ },
    { name: 'ACL not a list', raw: { auth: { defaultAcl: { subscribe: 'a/#' } } }, field: 'auth.defaultAcl.subscribe', value: 'a/#', allowed: /must be a list/ }
  ]

  for (const c of cases) {
    test(c.name, () => {
      const err = refusal(c.raw, 'wharf.yaml')
      assert.equal(err.field, c.field)
      assert.deepEqual(err.value, c.value)
      assert.match(err.allowed, c.allowed)
      assert.ok(err.message.startsWith(`config (wharf.yaml): ${c.field} = `), err.message)
      assert.ok(err.message.endsWith(`: ${err.allowed}`), err.message)
    })
  }

  test('the message has the documented form', () => {
    assert.equal(refusal({ mqtt: { port: 70000 } }).message, 'config: mqtt.port = 70000: must be an integer port 1-65535, or 0 for any free port')
    assert.equal(refusal({ storage: { durability: 'x' } }, 'w.yaml').message, 'config (w.yaml): storage.durability = "x": must be one of process, power')
  })

  test('a password hash is not echoed in the message', () => {
    const err = refusal({ auth: { users: [{ username: 'a', passwordHash: 'my-plaintext-password' }] } })
    assert.equal(err.value, 'my-plaintext-password')
    assert.doesNotMatch(err.message, /my-plaintext-password/)
    assert.match(err.message, /\[redacted\]/)
  })

  test('per-field sources name where a value came from', () => {
    try {
      validateConfig({ mqtt: { port: 'abc' } }, 'wharf.yaml', { fieldSources: { 'mqtt.port': 'WHARF_MQTT_PORT' } })
      assert.fail('accepted')
    } catch (err) {
      assert.ok(err instanceof ConfigError)
      assert.equal(err.source, 'WHARF_MQTT_PORT')
      assert.equal(err.message, 'config (WHARF_MQTT_PORT): mqtt.port = "abc": must be an integer port 1-65535, or 0 for any free port')
    }
  })
})
