import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { validateConfig } from './validate-config.ts'
import { defaultConfig } from './defaults.ts'
import { ConfigError } from './config-error.ts'
import { hashPassword } from '../core/auth/password-hash.ts'
import { formatScramCredentials, scramCredentialsFor } from '../core/auth/scram-credentials.ts'

const hash = hashPassword('secret')
const scram = formatScramCredentials(scramCredentialsFor('secret', Buffer.alloc(16, 1), 4096))
const scramWeak = scram.replace('SCRAM-SHA-256$4096:', 'SCRAM-SHA-256$1000:')

function refusal(raw: unknown, source?: string): ConfigError {
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

  test('the defaults of exchange, streams, tiering, disk watermark and archive are the documented values', () => {
    const c = defaultConfig()
    assert.equal(c.mqtt.exchange, 'amq.topic')
    assert.equal(c.mqtt.vhost, '/')
    assert.deepEqual(c.streams, { segmentBytes: 16 * 1024 * 1024, segmentAgeSeconds: 3600, blockBytes: 262144 })
    assert.deepEqual(c.tiering, {
      url: null,
      s3: { endpoint: null, region: null, forcePathStyle: false },
      localAgeSeconds: 86400,
      localBytesMax: 1073741824,
      cacheBytesMax: 67108864,
      prefetchWatermark: 0.5,
      uploadRetryInitialMs: 500,
      uploadRetryMaxMs: 60000,
      checkIntervalMs: 1000,
      requiredAtStart: false,
      startCheckTimeoutMs: 5000
    })
    assert.equal(c.storage.localBytesMax, 0)
    assert.equal(c.storage.diskCheckIntervalMs, 1000)
    assert.deepEqual(c.archive, [])
  })

  test('tiering to S3 with an endpoint, and archive entries with and without retention, are kept as written', () => {
    const c = validateConfig({
      mqtt: { exchange: 'mqtt.topic', vhost: 'edge' },
      amqp: { vhosts: ['/', 'edge'] },
      streams: { segmentBytes: 1024, blockBytes: 1024, segmentAgeSeconds: 1 },
      tiering: {
        url: 's3://wharf-segments/edge/site-1',
        s3: { endpoint: 'http://versitygw:7070', region: 'garage', forcePathStyle: true },
        localAgeSeconds: 0,
        localBytesMax: 0,
        cacheBytesMax: 65536,
        prefetchWatermark: 0.9,
        uploadRetryInitialMs: 1,
        uploadRetryMaxMs: 1,
        checkIntervalMs: 10
      },
      storage: { localBytesMax: 2_000_000_000, diskCheckIntervalMs: 10 },
      archive: [
        { filter: 'devices/+/telemetry/#', stream: 'telemetry', maxAgeSeconds: 86400, maxLengthBytes: 1 },
        { filter: '#', stream: 'everything' }
      ]
    })
    assert.equal(c.mqtt.exchange, 'mqtt.topic')
    assert.equal(c.mqtt.vhost, 'edge')
    assert.equal(c.tiering.url, 's3://wharf-segments/edge/site-1')
    assert.deepEqual(c.tiering.s3, { endpoint: 'http://versitygw:7070', region: 'garage', forcePathStyle: true })
    assert.equal(c.tiering.prefetchWatermark, 0.9)
    assert.deepEqual(c.archive[0], { filter: 'devices/+/telemetry/#', stream: 'telemetry', maxAgeSeconds: 86400, maxLengthBytes: 1 })
    assert.deepEqual(c.archive[1], { filter: '#', stream: 'everything' })
    assert.equal('maxAgeSeconds' in (c.archive[1] ?? {}), false, 'absent retention stays absent')
  })

  test('each MQTT listener takes a vhost of amqp.vhosts; null is mqtt.vhost', () => {
    const c = validateConfig({ amqp: { vhosts: ['/', 'tls', 'web'] }, mqtt: { tls: { vhost: 'tls' }, ws: { vhost: 'web', tls: { vhost: 'web' } } } })
    assert.deepEqual([c.mqtt.vhost, c.mqtt.tls.vhost, c.mqtt.ws.vhost, c.mqtt.ws.tls.vhost], ['/', 'tls', 'web', 'web'])
    assert.equal(defaultConfig().mqtt.ws.vhost, null)
  })

  test('a file:// tiering URL and the boundary values are accepted', () => {
    assert.equal(validateConfig({ tiering: { url: 'file:///var/lib/wharf/cold' } }).tiering.url, 'file:///var/lib/wharf/cold')
    assert.equal(validateConfig({ tiering: { url: 's3://abc' } }).tiering.url, 's3://abc')
    // cacheBytesMax exactly 2 * blockBytes, blockBytes exactly segmentBytes
    const c = validateConfig({ streams: { segmentBytes: 1_000_000, blockBytes: 1_000_000 }, tiering: { cacheBytesMax: 2_000_000 } })
    assert.equal(c.tiering.cacheBytesMax, 2_000_000)
    // tiering.localBytesMax just below a set watermark
    assert.equal(validateConfig({ storage: { localBytesMax: 1000 }, tiering: { localBytesMax: 999 } }).tiering.localBytesMax, 999)
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

  test('a user with SCRAM-SHA-256 credentials keeps them; a user without has none', () => {
    const c = validateConfig({
      auth: {
        users: [
          { username: 'dev', passwordHash: hash, scramSha256: scram },
          { username: 'old', passwordHash: hash }
        ]
      }
    })
    assert.deepEqual(c.auth.users[0], { username: 'dev', passwordHash: hash, scramSha256: scram })
    assert.equal('scramSha256' in (c.auth.users[1] ?? {}), false)
  })

  test('tags, permissions and topic permissions are kept as written; an empty regex is allowed', () => {
    const c = validateConfig({
      amqp: { vhosts: ['/', 'tenant'] },
      auth: {
        guest: { enabled: false },
        users: [{ username: 'ops', passwordHash: hash, tags: ['monitoring'] }],
        permissions: [{ user: 'ops', vhost: 'tenant', configure: '', write: '^ops\\.', read: '.*' }],
        topicPermissions: [{ user: 'ops', vhost: 'tenant', exchange: 'amq.topic', write: '^{username}\\.', read: '.*' }]
      }
    })
    assert.equal(c.auth.guest.enabled, false)
    assert.deepEqual(c.auth.users[0]?.tags, ['monitoring'])
    assert.deepEqual(c.auth.permissions, [{ user: 'ops', vhost: 'tenant', configure: '', write: '^ops\\.', read: '.*' }])
    assert.equal(c.auth.topicPermissions[0]?.write, '^{username}\\.')
  })

  test('TLS is enabled with both cert and key', () => {
    const c = validateConfig({ mqtt: { tls: { certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem' } } })
    assert.equal(c.mqtt.tls.certFile, 'c.pem')
  })
})

describe('validateConfig: refusals name field, value and what is allowed', () => {
  const cases: Array<{ name: string; raw: unknown; field: string; value: unknown; allowed: RegExp }> = [
    { name: 'port out of range', raw: { mqtt: { port: 70000 } }, field: 'mqtt.port', value: 70000, allowed: /integer port 1-65535/ },
    { name: 'negative port', raw: { admin: { port: -1 } }, field: 'admin.port', value: -1, allowed: /integer port/ },
    {
      name: 'background threads above nice 19',
      raw: { runtime: { backgroundThreadsNice: 20 } },
      field: 'runtime.backgroundThreadsNice',
      value: 20,
      allowed: /integer 0-19 nice steps \(0 = at the event loop's priority\)/
    },
    {
      name: 'a memory watermark of the whole heap',
      raw: { runtime: { heapWatermarkRatio: 1 } },
      field: 'runtime.heapWatermarkRatio',
      value: 1,
      allowed: /number 0-0\.95 \(a fraction of V8's heap limit; 0 = no memory watermark\)/
    },
    { name: 'port as string', raw: { amqp: { port: '5672' } }, field: 'amqp.port', value: '5672', allowed: /integer port/ },
    { name: 'wrong type for a string', raw: { log: { level: 5 } }, field: 'log.level', value: 5, allowed: /one of debug/ },
    { name: 'bind address of the wrong type', raw: { host: 5 }, field: 'host', value: 5, allowed: /IP address .* or a host name/ },
    {
      name: 'bind address that is no address',
      raw: { admin: { host: 'local host' } },
      field: 'admin.host',
      value: 'local host',
      allowed: /IP address .*; this one is neither an IP address nor a host name/
    },
    {
      name: 'listener bind address',
      raw: { amqp: { tls: { host: '300.1.1.1:5' } } },
      field: 'amqp.tls.host',
      value: '300.1.1.1:5',
      allowed: /null \(the default bind address\) or an IP address/
    },
    {
      name: 'unknown TLS version',
      raw: { mqtt: { tls: { minVersion: 'SSLv3' } } },
      field: 'mqtt.tls.minVersion',
      value: 'SSLv3',
      allowed: /one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3/
    },
    {
      name: 'unknown identity source',
      raw: { amqp: { tls: { identityAsUsername: 'CN' } } },
      field: 'amqp.tls.identityAsUsername',
      value: 'CN',
      allowed: /null \(off\), commonName or subjectAltName/
    },
    {
      name: 'identity without a CA',
      raw: { mqtt: { tls: { certFile: 'c.pem', keyFile: 'k.pem', identityAsUsername: 'commonName' } } },
      field: 'mqtt.tls.identityAsUsername',
      value: 'commonName',
      allowed: /needs mqtt.tls.caFile/
    },
    {
      name: 'AMQPS cert without key',
      raw: { amqp: { tls: { certFile: 'c.pem' } } },
      field: 'amqp.tls.keyFile',
      value: null,
      allowed: /together with amqp.tls.certFile/
    },
    {
      name: 'admin TLS on the admin port',
      raw: { admin: { tls: { port: 8080, certFile: 'c.pem', keyFile: 'k.pem' } } },
      field: 'admin.tls.port',
      value: 8080,
      allowed: /must differ from admin.port/
    },
    {
      name: 'negative rate limit',
      raw: { limits: { perUser: { publishMessagesPerSecond: -1 } } },
      field: 'limits.perUser.publishMessagesPerSecond',
      value: -1,
      allowed: /integer >= 0 messages\/s \(0 = no limit\)/
    },
    {
      name: 'fractional connection rate',
      raw: { limits: { perSourceIp: { connectionsPerSecond: 0.5 } } },
      field: 'limits.perSourceIp.connectionsPerSecond',
      value: 0.5,
      allowed: /connections\/s/
    },
    {
      name: 'no source addresses tracked',
      raw: { limits: { perSourceIp: { addressesMax: 0 } } },
      field: 'limits.perSourceIp.addressesMax',
      value: 0,
      allowed: /integer 1-100000000 addresses/
    },
    {
      name: 'AMQP write buffer under 1 KiB',
      raw: { amqp: { writeBufferBytesMax: 512 } },
      field: 'amqp.writeBufferBytesMax',
      value: 512,
      allowed: /integer 1024-1073741824 bytes/
    },
    {
      name: 'partial-packet deadline of 0',
      raw: { mqtt: { partialPacketTimeoutSeconds: 0 } },
      field: 'mqtt.partialPacketTimeoutSeconds',
      value: 0,
      allowed: /integer 1-3600 seconds/
    },
    { name: 'empty dataDir', raw: { dataDir: '' }, field: 'dataDir', value: '', allowed: /non-empty string/ },
    { name: 'wrong type for a boolean', raw: { auth: { allowAnonymous: 'yes' } }, field: 'auth.allowAnonymous', value: 'yes', allowed: /true or false/ },
    { name: 'bad enum', raw: { storage: { durability: 'sometimes' } }, field: 'storage.durability', value: 'sometimes', allowed: /one of process, power/ },
    { name: 'bad log level', raw: { log: { level: 'verbose' } }, field: 'log.level', value: 'verbose', allowed: /debug, info, warn, error/ },
    { name: 'bad overflow policy', raw: { mqtt: { queueOverflow: 'drop' } }, field: 'mqtt.queueOverflow', value: 'drop', allowed: /drop-oldest, drop-newest/ },
    { name: 'negative limit', raw: { mqtt: { maxQueuedMessages: -5 } }, field: 'mqtt.maxQueuedMessages', value: -5, allowed: /integer 0-/ },
    { name: 'non-integer limit', raw: { mqtt: { maxInflightMessages: 1.5 } }, field: 'mqtt.maxInflightMessages', value: 1.5, allowed: /integer 1-65535/ },
    { name: 'zero where one is the least', raw: { storage: { commitBatchMax: 0 } }, field: 'storage.commitBatchMax', value: 0, allowed: /integer 1-/ },
    {
      name: 'start check without time to answer',
      raw: { tiering: { startCheckTimeoutMs: 50 } },
      field: 'tiering.startCheckTimeoutMs',
      value: 50,
      allowed: /integer 100-60000/
    },
    {
      name: 'client id limit below MQTT minimum',
      raw: { mqtt: { maxClientIdLength: 10 } },
      field: 'mqtt.maxClientIdLength',
      value: 10,
      allowed: /at least 23/
    },
    { name: 'ws path without slash', raw: { mqtt: { ws: { path: 'mqtt' } } }, field: 'mqtt.ws.path', value: 'mqtt', allowed: /starting with '\/'/ },
    { name: 'section of the wrong type', raw: { mqtt: 1883 }, field: 'mqtt', value: 1883, allowed: /mapping with keys host, port, tls/ },
    { name: 'top level not a mapping', raw: ['a'], field: '(top level)', value: ['a'], allowed: /mapping with keys dataDir/ },
    { name: 'unknown top-level key', raw: { prot: 1 }, field: 'prot', value: 1, allowed: /unknown key; allowed keys: dataDir, host, log/ },
    {
      name: 'unknown nested key',
      raw: { mqtt: { prot: 1883 } },
      field: 'mqtt.prot',
      value: 1883,
      allowed: /unknown key; allowed keys under mqtt: host, port, tls, ws/
    },
    {
      name: 'TLS cert without key',
      raw: { mqtt: { tls: { certFile: 'c.pem' } } },
      field: 'mqtt.tls.keyFile',
      value: null,
      allowed: /together with mqtt.tls.certFile/
    },
    {
      name: 'TLS key without cert',
      raw: { mqtt: { ws: { tls: { keyFile: 'k.pem' } } } },
      field: 'mqtt.ws.tls.certFile',
      value: null,
      allowed: /together with mqtt.ws.tls.keyFile/
    },
    {
      name: 'CA without cert and key',
      raw: { mqtt: { tls: { caFile: 'ca.pem' } } },
      field: 'mqtt.tls.caFile',
      value: 'ca.pem',
      allowed: /needs mqtt.tls.certFile/
    },
    { name: 'enabled listeners on one port', raw: { admin: { port: 1883 } }, field: 'admin.port', value: 1883, allowed: /must differ from mqtt.port/ },
    {
      name: 'enabled TLS listener on a taken port',
      raw: { mqtt: { tls: { port: 5672, certFile: 'c.pem', keyFile: 'k.pem' } } },
      field: 'amqp.port',
      value: 5672,
      allowed: /must differ from mqtt.tls.port/
    },
    { name: 'users not a list', raw: { auth: { users: { bob: 1 } } }, field: 'auth.users', value: { bob: 1 }, allowed: /must be a list/ },
    {
      name: 'user without username',
      raw: { auth: { users: [{ passwordHash: hash }] } },
      field: 'auth.users[0].username',
      value: undefined,
      allowed: /is required/
    },
    { name: 'user without hash', raw: { auth: { users: [{ username: 'a' }] } }, field: 'auth.users[0].passwordHash', value: undefined, allowed: /is required/ },
    {
      name: 'hash not scrypt',
      raw: { auth: { users: [{ username: 'a', passwordHash: 'hunter2' }] } },
      field: 'auth.users[0].passwordHash',
      value: 'hunter2',
      allowed: /scrypt\$<N>/
    },
    {
      name: 'duplicate usernames',
      raw: {
        auth: {
          users: [
            { username: 'a', passwordHash: hash },
            { username: 'a', passwordHash: hash }
          ]
        }
      },
      field: 'auth.users[1].username',
      value: 'a',
      allowed: /unique \(already used by auth.users\[0\]\)/
    },
    {
      name: 'unknown key in a user',
      raw: { auth: { users: [{ username: 'a', passwordHash: hash, pasword: 'x' }] } },
      field: 'auth.users[0].pasword',
      value: 'x',
      allowed: /allowed keys under auth.users\[0\]: username, passwordHash/
    },
    {
      name: 'SCRAM credentials not RFC 5803',
      raw: { auth: { users: [{ username: 'a', passwordHash: hash, scramSha256: 'pencil' }] } },
      field: 'auth.users[0].scramSha256',
      value: 'pencil',
      allowed: /SCRAM-SHA-256\$<iterations 4096-10000000>:<salt base64>\$<StoredKey base64>:<ServerKey base64>.*wharf passwd --scram/
    },
    {
      name: 'SCRAM credentials below 4096 iterations',
      raw: { auth: { users: [{ username: 'a', passwordHash: hash, scramSha256: scramWeak }] } },
      field: 'auth.users[0].scramSha256',
      value: scramWeak,
      allowed: /iterations 4096-10000000/
    },
    {
      name: 'SCRAM credentials as a scrypt hash',
      raw: { auth: { users: [{ username: 'a', passwordHash: hash, scramSha256: hash }] } },
      field: 'auth.users[0].scramSha256',
      value: hash,
      allowed: /RFC 5803/
    },
    {
      name: 'SCRAM credentials not a string',
      raw: { auth: { users: [{ username: 'a', passwordHash: hash, scramSha256: 4096 }] } },
      field: 'auth.users[0].scramSha256',
      value: 4096,
      allowed: /RFC 5803/
    },
    {
      name: 'bad ACL pattern',
      raw: { auth: { defaultAcl: { publish: ['a/#/b'] } } },
      field: 'auth.defaultAcl.publish[0]',
      value: 'a/#/b',
      allowed: /MQTT topic filter/
    },
    {
      name: 'ACL not a list',
      raw: { auth: { defaultAcl: { subscribe: 'a/#' } } },
      field: 'auth.defaultAcl.subscribe',
      value: 'a/#',
      allowed: /must be a list/
    },
    {
      name: 'unknown user tag',
      raw: { auth: { users: [{ username: 'a', passwordHash: hash, tags: ['root'] }] } },
      field: 'auth.users[0].tags[0]',
      value: 'root',
      allowed: /one of administrator, monitoring, policymaker, management/
    },
    {
      name: 'permission regex that does not compile',
      raw: { auth: { users: [{ username: 'a', passwordHash: hash }], permissions: [{ user: 'a', vhost: '/', configure: '(', write: '', read: '' }] } },
      field: 'auth.permissions[0].configure',
      value: '(',
      allowed: /regular expression as RabbitMQ takes them.*Unterminated group/
    },
    {
      name: 'permission for a user not in auth.users',
      raw: { auth: { permissions: [{ user: 'nobody', vhost: '/', configure: '', write: '', read: '' }] } },
      field: 'auth.permissions[0].user',
      value: 'nobody',
      allowed: /must name a user of auth.users/
    },
    {
      name: 'topic permission in a vhost not in amqp.vhosts',
      raw: {
        auth: { users: [{ username: 'a', passwordHash: hash }], topicPermissions: [{ user: 'a', vhost: 'nope', exchange: 'amq.topic', write: '', read: '' }] }
      },
      field: 'auth.topicPermissions[0].vhost',
      value: 'nope',
      allowed: /must be one of amqp.vhosts \("\/"\)/
    },
    {
      name: 'two permissions for one user and vhost',
      raw: {
        auth: {
          users: [{ username: 'a', passwordHash: hash }],
          permissions: [
            { user: 'a', vhost: '/', configure: '', write: '', read: '' },
            { user: 'a', vhost: '/', configure: '.*', write: '', read: '' }
          ]
        }
      },
      field: 'auth.permissions[1]',
      value: { user: 'a', vhost: '/', configure: '.*', write: '', read: '' },
      allowed: /unique per user and vhost \(already given by auth.permissions\[0\]\)/
    },
    { name: 'guest switch not a boolean', raw: { auth: { guest: { enabled: 'no' } } }, field: 'auth.guest.enabled', value: 'no', allowed: /true or false/ },
    // mqtt.exchange / mqtt.vhost
    { name: 'empty MQTT exchange', raw: { mqtt: { exchange: '' } }, field: 'mqtt.exchange', value: '', allowed: /topic exchange name.*this one is empty/ },
    {
      name: 'MQTT exchange not a topic exchange',
      raw: { mqtt: { exchange: 'amq.fanout' } },
      field: 'mqtt.exchange',
      value: 'amq.fanout',
      allowed: /only amq\.topic/
    },
    {
      name: 'MQTT exchange over 255 bytes',
      raw: { mqtt: { exchange: 'x'.repeat(256) } },
      field: 'mqtt.exchange',
      value: 'x'.repeat(256),
      allowed: /longer than 255 bytes/
    },
    {
      name: 'MQTT vhost not an AMQP vhost',
      raw: { mqtt: { vhost: 'edge' } },
      field: 'mqtt.vhost',
      value: 'edge',
      allowed: /must be one of amqp\.vhosts \("\/"\)/
    },
    {
      name: 'MQTT TLS listener vhost not an AMQP vhost',
      raw: { mqtt: { tls: { vhost: 'tenant' } } },
      field: 'mqtt.tls.vhost',
      value: 'tenant',
      allowed: /must be one of amqp\.vhosts \("\/"\)/
    },
    {
      name: 'MQTT WebSocket listener vhost not an AMQP vhost',
      raw: { amqp: { vhosts: ['/', 'b'] }, mqtt: { ws: { vhost: 'c' } } },
      field: 'mqtt.ws.vhost',
      value: 'c',
      allowed: /must be one of amqp\.vhosts \("\/", "b"\)/
    },
    {
      name: 'MQTT secure WebSocket listener vhost empty',
      raw: { mqtt: { ws: { tls: { vhost: '' } } } },
      field: 'mqtt.ws.tls.vhost',
      value: '',
      allowed: /null \(mqtt\.vhost\) or a vhost name/
    },
    {
      name: 'MQTT vhost outside a changed vhost list',
      raw: { amqp: { vhosts: ['prod', 'dev'] } },
      field: 'mqtt.vhost',
      value: '/',
      allowed: /one of amqp\.vhosts \("prod", "dev"\)/
    },
    // streams
    { name: 'segment below 1 KiB', raw: { streams: { segmentBytes: 1023 } }, field: 'streams.segmentBytes', value: 1023, allowed: /integer >= 1024 bytes/ },
    { name: 'segment age zero', raw: { streams: { segmentAgeSeconds: 0 } }, field: 'streams.segmentAgeSeconds', value: 0, allowed: /integer >= 1 seconds/ },
    { name: 'block below 1 KiB', raw: { streams: { blockBytes: 512 } }, field: 'streams.blockBytes', value: 512, allowed: /integer >= 1024 bytes/ },
    {
      name: 'block larger than its segment',
      raw: { streams: { segmentBytes: 4096, blockBytes: 8192 } },
      field: 'streams.blockBytes',
      value: 8192,
      allowed: /<= streams\.segmentBytes \(4096 bytes\)/
    },
    // tiering.url
    {
      name: 'tiering URL with another scheme',
      raw: { tiering: { url: 'https://bucket.s3.amazonaws.com' } },
      field: 'tiering.url',
      value: 'https://bucket.s3.amazonaws.com',
      allowed: /file:\/\/\/<absolute dir> or s3:\/\/<bucket>.*scheme other than file: and s3:/
    },
    { name: 'relative file URL', raw: { tiering: { url: 'file://cold' } }, field: 'tiering.url', value: 'file://cold', allowed: /no absolute path/ },
    {
      name: 'file URL with a query',
      raw: { tiering: { url: 'file:///cold?x=1' } },
      field: 'tiering.url',
      value: 'file:///cold?x=1',
      allowed: /query or fragment/
    },
    {
      name: 'S3 bucket with capitals',
      raw: { tiering: { url: 's3://Wharf/edge' } },
      field: 'tiering.url',
      value: 's3://Wharf/edge',
      allowed: /bucket 'Wharf', not an S3 bucket name/
    },
    { name: 'S3 bucket too short', raw: { tiering: { url: 's3://ab' } }, field: 'tiering.url', value: 's3://ab', allowed: /3-63 characters/ },
    { name: 'S3 URL without bucket', raw: { tiering: { url: 's3:///edge' } }, field: 'tiering.url', value: 's3:///edge', allowed: /bucket ''/ },
    {
      name: 'S3 prefix with a doubled slash',
      raw: { tiering: { url: 's3://wharf-segments/edge//x' } },
      field: 'tiering.url',
      value: 's3://wharf-segments/edge//x',
      allowed: /empty level in its prefix/
    },
    { name: 'tiering URL not a string', raw: { tiering: { url: 5 } }, field: 'tiering.url', value: 5, allowed: /must be null/ },
    // tiering.s3
    {
      name: 'S3 endpoint not a URL',
      raw: { tiering: { url: 's3://bkt', s3: { endpoint: 'versitygw:7070x' } } },
      field: 'tiering.s3.endpoint',
      value: 'versitygw:7070x',
      allowed: /http\(s\):\/\/host\[:port\].*has scheme versitygw/
    },
    {
      name: 'S3 endpoint with credentials',
      raw: { tiering: { url: 's3://bkt', s3: { endpoint: 'http://key:secret@store:9000' } } },
      field: 'tiering.s3.endpoint',
      value: 'http://key:secret@store:9000',
      allowed: /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/
    },
    {
      name: 'S3 region with a space',
      raw: { tiering: { url: 's3://bkt', s3: { region: 'us east' } } },
      field: 'tiering.s3.region',
      value: 'us east',
      allowed: /not a region name/
    },
    {
      name: 'forcePathStyle not a boolean',
      raw: { tiering: { s3: { forcePathStyle: 'yes' } } },
      field: 'tiering.s3.forcePathStyle',
      value: 'yes',
      allowed: /true or false/
    },
    {
      name: 'S3 endpoint with the default file tier',
      raw: { tiering: { s3: { endpoint: 'http://store:9000' } } },
      field: 'tiering.s3.endpoint',
      value: 'http://store:9000',
      allowed: /only for s3:\/\/ tiering URLs, but tiering\.url is null \(file:\/\//
    },
    {
      name: 'S3 region with a file tier',
      raw: { tiering: { url: 'file:///cold', s3: { region: 'eu-west-1' } } },
      field: 'tiering.s3.region',
      value: 'eu-west-1',
      allowed: /but tiering\.url is file:\/\/\/cold/
    },
    {
      name: 'path style with a file tier',
      raw: { tiering: { s3: { forcePathStyle: true } } },
      field: 'tiering.s3.forcePathStyle',
      value: true,
      allowed: /only for s3:\/\//
    },
    {
      name: 'unknown key under tiering.s3',
      raw: { tiering: { s3: { accessKeyId: 'AKIA' } } },
      field: 'tiering.s3.accessKeyId',
      value: 'AKIA',
      allowed: /allowed keys under tiering\.s3: endpoint, region, forcePathStyle/
    },
    // tiering limits
    { name: 'negative local age', raw: { tiering: { localAgeSeconds: -1 } }, field: 'tiering.localAgeSeconds', value: -1, allowed: /integer >= 0 seconds/ },
    { name: 'negative local bytes', raw: { tiering: { localBytesMax: -1 } }, field: 'tiering.localBytesMax', value: -1, allowed: /integer >= 0 bytes/ },
    { name: 'cache below 64 KiB', raw: { tiering: { cacheBytesMax: 65535 } }, field: 'tiering.cacheBytesMax', value: 65535, allowed: /integer >= 65536 bytes/ },
    {
      name: 'cache below two blocks',
      raw: { streams: { blockBytes: 2097152 }, tiering: { cacheBytesMax: 4194303 } },
      field: 'tiering.cacheBytesMax',
      value: 4194303,
      allowed: /2 \* streams\.blockBytes = 4194304 bytes/
    },
    {
      name: 'prefetch watermark 0',
      raw: { tiering: { prefetchWatermark: 0 } },
      field: 'tiering.prefetchWatermark',
      value: 0,
      allowed: /greater than 0 and less than 1/
    },
    { name: 'prefetch watermark 1', raw: { tiering: { prefetchWatermark: 1 } }, field: 'tiering.prefetchWatermark', value: 1, allowed: /less than 1/ },
    {
      name: 'prefetch watermark as text',
      raw: { tiering: { prefetchWatermark: '0.5' } },
      field: 'tiering.prefetchWatermark',
      value: '0.5',
      allowed: /a number/
    },
    { name: 'upload retry 0 ms', raw: { tiering: { uploadRetryInitialMs: 0 } }, field: 'tiering.uploadRetryInitialMs', value: 0, allowed: /integer >= 1 ms/ },
    {
      name: 'upload retry max below initial',
      raw: { tiering: { uploadRetryInitialMs: 1000, uploadRetryMaxMs: 999 } },
      field: 'tiering.uploadRetryMaxMs',
      value: 999,
      allowed: />= tiering\.uploadRetryInitialMs \(1000 ms\)/
    },
    { name: 'check interval below 10 ms', raw: { tiering: { checkIntervalMs: 9 } }, field: 'tiering.checkIntervalMs', value: 9, allowed: /integer >= 10 ms/ },
    // storage watermark
    {
      name: 'negative disk watermark',
      raw: { storage: { localBytesMax: -1 } },
      field: 'storage.localBytesMax',
      value: -1,
      allowed: /integer >= 0 bytes \(0 = no limit\)/
    },
    {
      name: 'disk check below 10 ms',
      raw: { storage: { diskCheckIntervalMs: 5 } },
      field: 'storage.diskCheckIntervalMs',
      value: 5,
      allowed: /integer 10-3600000 ms/
    },
    {
      name: 'offload threshold not below the disk watermark',
      raw: { storage: { localBytesMax: 1073741824 } },
      field: 'tiering.localBytesMax',
      value: 1073741824,
      allowed: /below storage\.localBytesMax \(1073741824 bytes\)/
    },
    // archive
    { name: 'archive not a list', raw: { archive: { filter: '#' } }, field: 'archive', value: { filter: '#' }, allowed: /must be a list/ },
    { name: 'archive entry without stream', raw: { archive: [{ filter: '#' }] }, field: 'archive[0].stream', value: undefined, allowed: /is required/ },
    { name: 'archive entry without filter', raw: { archive: [{ stream: 's' }] }, field: 'archive[0].filter', value: undefined, allowed: /is required/ },
    {
      name: "archive filter with '#' inside",
      raw: { archive: [{ filter: 'a/#/b', stream: 's' }] },
      field: 'archive[0].filter',
      value: 'a/#/b',
      allowed: /MQTT topic filter.*'#' before the last level/
    },
    {
      name: 'archive filter with a wildcard inside a level',
      raw: { archive: [{ filter: 'a/b+', stream: 's' }] },
      field: 'archive[0].filter',
      value: 'a/b+',
      allowed: /wildcard inside the level 'b\+'/
    },
    {
      name: 'archive filter with #x',
      raw: { archive: [{ filter: 'a/#x', stream: 's' }] },
      field: 'archive[0].filter',
      value: 'a/#x',
      allowed: /wildcard inside the level/
    },
    { name: 'empty archive filter', raw: { archive: [{ filter: '', stream: 's' }] }, field: 'archive[0].filter', value: '', allowed: /is empty/ },
    {
      name: 'archive filter with NUL',
      raw: { archive: [{ filter: 'a\u0000b', stream: 's' }] },
      field: 'archive[0].filter',
      value: 'a\u0000b',
      allowed: /U\+0000/
    },
    {
      name: 'shared subscription as archive filter',
      raw: { archive: [{ filter: '$share/g/a/#', stream: 's' }] },
      field: 'archive[0].filter',
      value: '$share/g/a/#',
      allowed: /shared subscription/
    },
    { name: 'empty stream name', raw: { archive: [{ filter: '#', stream: '' }] }, field: 'archive[0].stream', value: '', allowed: /1-255 bytes.*is empty/ },
    {
      name: 'stream name over 255 bytes',
      raw: { archive: [{ filter: '#', stream: 'é'.repeat(128) }] },
      field: 'archive[0].stream',
      value: 'é'.repeat(128),
      allowed: /longer than 255 bytes/
    },
    {
      name: 'stream name amq.*',
      raw: { archive: [{ filter: '#', stream: 'amq.archive' }] },
      field: 'archive[0].stream',
      value: 'amq.archive',
      allowed: /starts with 'amq\.'/
    },
    {
      name: 'stream name mqtt-*',
      raw: { archive: [{ filter: '#', stream: 'mqtt-session/x' }] },
      field: 'archive[0].stream',
      value: 'mqtt-session/x',
      allowed: /starts with 'mqtt-session\/'/
    },
    {
      name: 'stream used twice',
      raw: {
        archive: [
          { filter: 'a', stream: 's' },
          { filter: 'b', stream: 't' },
          { filter: 'c', stream: 's' }
        ]
      },
      field: 'archive[2].stream',
      value: 's',
      allowed: /unique in vhost '\/' \(already used by archive\[0\]\)/
    },
    {
      name: 'archive vhost not configured',
      raw: { archive: [{ filter: '#', stream: 's', vhost: 'plant' }] },
      field: 'archive[0].vhost',
      value: 'plant',
      allowed: /one of amqp.vhosts \("\/"\)/
    },
    {
      name: 'stream used twice in one vhost, named once by default',
      raw: {
        amqp: { vhosts: ['/', 'plant'] },
        archive: [
          { filter: 'a', stream: 's', vhost: 'plant' },
          { filter: 'b', stream: 's' },
          { filter: 'c', stream: 's', vhost: '/' }
        ]
      },
      field: 'archive[2].stream',
      value: 's',
      allowed: /unique in vhost '\/' \(already used by archive\[1\]\)/
    },
    {
      name: 'archive max age 0',
      raw: { archive: [{ filter: '#', stream: 's', maxAgeSeconds: 0 }] },
      field: 'archive[0].maxAgeSeconds',
      value: 0,
      allowed: /integer >= 1 seconds/
    },
    {
      name: 'archive max length not an integer',
      raw: { archive: [{ filter: '#', stream: 's', maxLengthBytes: 1.5 }] },
      field: 'archive[0].maxLengthBytes',
      value: 1.5,
      allowed: /integer >= 1 bytes/
    },
    {
      name: 'unknown key in an archive entry',
      raw: { archive: [{ filter: '#', stream: 's', maxAge: 5 }] },
      field: 'archive[0].maxAge',
      value: 5,
      allowed: /allowed keys under archive\[0\]: filter, stream, vhost, maxAgeSeconds, maxLengthBytes/
    }
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

  test('SCRAM credentials are not echoed in the message either', () => {
    const err = refusal({ auth: { users: [{ username: 'a', passwordHash: hash, scramSha256: 'my-plaintext-password' }] } })
    assert.equal(err.field, 'auth.users[0].scramSha256')
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
