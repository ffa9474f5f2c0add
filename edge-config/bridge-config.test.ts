import { test } from 'node:test'
import assert from 'node:assert/strict'
import { validateConfig } from './validate-config.ts'
import { applyEnvOverrides } from './env-overrides.ts'
import { defaultBridge } from './defaults.ts'
import { ConfigError } from './config-error.ts'

const minimal = { name: 'cloud', url: 'amqp://127.0.0.1', out: { topics: ['up/#'] } }

function refused(raw: unknown, field: string, text: RegExp): ConfigError {
  let caught: unknown
  try {
    validateConfig(raw)
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${field}`)
  assert.equal(caught.field, field)
  assert.match(caught.message, text)
  return caught
}

test('a bridge takes the defaults for every field it does not set', () => {
  const c = validateConfig({ bridges: [minimal] })
  assert.deepEqual(c.bridges[0], { ...defaultBridge(), name: 'cloud', url: 'amqp://127.0.0.1', out: { topics: ['up/#'], localPrefix: '', remotePrefix: '' } })
  assert.equal(c.bridges[0]?.backlogPolicy, 'block')
  assert.equal(c.bridges[0]?.amqp.exchange, 'amq.topic')
})

test('bridge fields are checked with their paths', () => {
  refused({ bridges: [{ ...minimal, url: 'http://x' }] }, 'bridges[0].url', /has scheme http/)
  refused({ bridges: [{ ...minimal, name: 'a b' }] }, 'bridges[0].name', /letters, digits/)
  refused({ bridges: [{ url: 'amqp://h', out: { topics: ['a'] } }] }, 'bridges[0].name', /is required/)
  refused({ bridges: [{ ...minimal, out: { topics: ['a/#/b'] } }] }, 'bridges[0].out.topics[0]', /'#' before the last level/)
  refused({ bridges: [{ ...minimal, backlogPolicy: 'drop-newest' }] }, 'bridges[0].backlogPolicy', /block, drop-oldest/)
  refused({ bridges: [{ ...minimal, mqtt: { qos: 3 } }] }, 'bridges[0].mqtt.qos', /0-2/)
  refused({ bridges: [{ ...minimal, hopsMax: 0 }] }, 'bridges[0].hopsMax', /integer 1-255 hops/)
  refused({ bridges: [{ ...minimal, mqtt: { protocolVersion: 3 } }] }, 'bridges[0].mqtt.protocolVersion', /4 \(MQTT 3.1.1\) or 5/)
  refused({ bridges: [{ ...minimal, out: { topics: ['up/#'], remotePrefix: 'a/+/' } }] }, 'bridges[0].out.remotePrefix', /wildcard/)
  refused({ bridges: [{ ...minimal, surprise: 1 }] }, 'bridges[0].surprise', /unknown key/)
})

test('a password in a refused bridge URL is not echoed', () => {
  const err = refused({ bridges: [{ ...minimal, url: 'ftp://edge:s3cret@cloud' }] }, 'bridges[0].url', /scheme ftp/)
  assert.doesNotMatch(err.message, /s3cret/)
  assert.match(err.message, /edge:\*\*\*@cloud/)
})

test("checks between a bridge's fields", () => {
  refused({ bridges: [minimal, { ...minimal }] }, 'bridges[1].name', /unique \(already used by bridges\[0\]\)/)
  refused({ bridges: [{ name: 'b', url: 'amqp://h' }] }, 'bridges[0].out.topics', /at least one filter, or in.topics/)
  refused(
    { bridges: [{ ...minimal, out: { topics: ['site/#', 'other/x'], localPrefix: 'site/' } }] },
    'bridges[0].out.topics[1]',
    /must start with out.localPrefix 'site\/'/
  )
  refused({ bridges: [{ ...minimal, in: { topics: ['x/#'], remotePrefix: 'edge/' } }] }, 'bridges[0].in.topics[0]', /must start with in.remotePrefix/)
  refused({ bridges: [{ ...minimal, tls: { caFile: 'ca.pem' } }] }, 'bridges[0].tls.caFile', /only for TLS URLs/)
  refused({ bridges: [{ ...minimal, url: 'amqps://h', tls: { certFile: 'c.pem' } }] }, 'bridges[0].tls.keyFile', /together with/)
  refused({ bridges: [{ ...minimal, reconnectInitialMs: 5000, reconnectMaxMs: 1000 }] }, 'bridges[0].reconnectMaxMs', />= reconnectInitialMs/)
  refused({ bridges: [{ ...minimal, vhost: 'plant' }] }, 'bridges[0].vhost', /one of amqp.vhosts \("\/"\)/)
  refused({ bridges: [{ ...minimal, vhost: '' }] }, 'bridges[0].vhost', /null \(mqtt.vhost\) or a vhost name/)
  assert.equal(validateConfig({ amqp: { vhosts: ['/', 'plant'] }, bridges: [{ ...minimal, vhost: 'plant' }] }).bridges[0]?.vhost, 'plant')
  assert.equal(
    validateConfig({ bridges: [{ ...minimal, url: 'mqtts://h:8883', tls: { caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'k.pem' } }] }).bridges[0]?.tls.caFile,
    'ca.pem'
  )
})

test('the bridge queue prefix is reserved for archive streams too', () => {
  refused({ archive: [{ filter: 'a/#', stream: 'bridge/x' }] }, 'archive[0].stream', /'bridge\/'/)
})

test('WHARF_BRIDGE_* make the single bridge, or set the first one of the file', () => {
  const env = { WHARF_BRIDGE_URL: 'mqtt://cloud:1883', WHARF_BRIDGE_OUT_TOPICS: ' devices/+/up/#, alarms/# ,', WHARF_BRIDGE_IN_TOPICS: 'devices/+/cmd/#' }
  const { raw, fieldSources } = applyEnvOverrides({}, env)
  const c = validateConfig(raw, undefined, { fieldSources })
  assert.equal(c.bridges.length, 1)
  assert.equal(c.bridges[0]?.name, 'cloud')
  assert.equal(c.bridges[0]?.url, 'mqtt://cloud:1883')
  assert.deepEqual(c.bridges[0]?.out.topics, ['devices/+/up/#', 'alarms/#'])
  assert.deepEqual(c.bridges[0]?.in.topics, ['devices/+/cmd/#'])
  assert.equal(c.bridges[0]?.vhost, null)
  const inPlant = applyEnvOverrides({ amqp: { vhosts: ['/', 'plant'] } }, { ...env, WHARF_BRIDGE_VHOST: 'plant' })
  assert.equal(validateConfig(inPlant.raw).bridges[0]?.vhost, 'plant')
  const fromFile = applyEnvOverrides(
    {
      bridges: [
        { name: 'a', url: 'amqp://old', out: { topics: ['x'] } },
        { ...minimal, name: 'b' }
      ]
    },
    { WHARF_BRIDGE_URL: 'amqp://new' }
  )
  const c2 = validateConfig(fromFile.raw)
  assert.deepEqual(
    c2.bridges.map(b => [b.name, b.url]),
    [
      ['a', 'amqp://new'],
      ['b', 'amqp://127.0.0.1']
    ]
  )
  assert.throws(
    () => validateConfig(applyEnvOverrides({}, { WHARF_BRIDGE_URL: 'nope' }).raw, undefined, { fieldSources: { 'bridges[0].url': 'WHARF_BRIDGE_URL' } }),
    /config \(WHARF_BRIDGE_URL\): bridges\[0\]\.url/
  )
})

test('two bridges to the same remote cannot share a client id or a downlink queue set by hand', () => {
  const mqtt = { clientId: 'site-gw' }
  refused(
    {
      bridges: [
        { ...minimal, name: 'a', url: 'mqtt://cloud:1883', mqtt },
        { ...minimal, name: 'b', url: 'mqtt://cloud:1883', mqtt }
      ]
    },
    'bridges[1].mqtt.clientId',
    /must differ from bridges\[0\]'s, a bridge to the same remote mqtt:\/\/cloud:1883: the remote keeps one connection per client id/
  )
  const amqp = { queue: 'site-commands' }
  const inTopics = { topics: ['cmd/#'] }
  refused(
    {
      bridges: [
        { ...minimal, name: 'a', amqp, in: inTopics },
        { ...minimal, name: 'b', amqp, in: inTopics }
      ]
    },
    'bridges[1].amqp.queue',
    /a bridge to the same remote amqp:\/\/127\.0\.0\.1: two bridges consuming one downlink queue/
  )
  // Other remotes, or a queue that no bridge consumes (no in topics): allowed.
  validateConfig({
    bridges: [
      { ...minimal, name: 'a', url: 'mqtt://cloud-a', mqtt },
      { ...minimal, name: 'b', url: 'mqtt://cloud-b', mqtt }
    ]
  })
  validateConfig({
    bridges: [
      { ...minimal, name: 'a', amqp },
      { ...minimal, name: 'b', amqp }
    ]
  })
})
