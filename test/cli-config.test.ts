// The `wharf` command: version, help, check-config, and start-up refusing bad configs by field.
import { describe, test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const wharfBin = fileURLToPath(new URL('../gateway/bin/wharf.js', import.meta.url))
const example = fileURLToPath(new URL('../edge-config/wharf.example.yaml', import.meta.url))

function wharf(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [wharfBin, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('wharf CLI', { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cli-'))
  after(() => rmSync(dir, { recursive: true, force: true }))
  const file = (name: string, text: string): string => {
    const p = join(dir, name)
    writeFileSync(p, text)
    return p
  }

  test('--version and --help', () => {
    assert.match(wharf(['--version']).stdout, /^wharf \d+\.\d+\.\d+/)
    const help = wharf(['--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /wharf start \[--config FILE\]/)
    assert.match(help.stdout, /check-config/)
  })

  test('check-config accepts the commented example config', () => {
    const r = wharf(['check-config', '--config', example])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /is valid/)
  })

  const bad: Array<[string, string, RegExp]> = [
    ['unknown key', 'mqtt:\n  prot: 1883\n', /mqtt\.prot/],
    ['port out of range', 'mqtt:\n  port: 70000\n', /mqtt\.port.*70000/],
    ['wrong type', 'storage:\n  durability: 3\n', /storage\.durability/],
    ['bad enum', 'storage:\n  durability: sometimes\n', /storage\.durability.*sometimes.*(process|power)/s],
    ['bad YAML', 'mqtt: [unclosed\n', /bad\.yaml|YAML|yaml/],
    [
      'a bridge filter outside its prefix',
      'bridges:\n  - name: cloud\n    url: amqp://cloud\n    out:\n      topics: ["a/#"]\n      localPrefix: "site/"\n',
      /bridges\[0\]\.out\.topics\[0\].*must start with out\.localPrefix/
    ],
    ['an MQTT listener vhost that is not a vhost', 'mqtt:\n  ws:\n    vhost: tenant\n', /mqtt\.ws\.vhost.*tenant.*must be one of amqp\.vhosts/],
    [
      'two bridges sharing a client id at one remote',
      'bridges:\n  - {name: a, url: "mqtt://cloud", out: {topics: ["a/#"]}, mqtt: {clientId: gw}}\n  - {name: b, url: "mqtt://cloud", out: {topics: ["b/#"]}, mqtt: {clientId: gw}}\n',
      /bridges\[1\]\.mqtt\.clientId = "gw": must differ from bridges\[0\]'s/
    ]
  ]
  for (const [name, yaml, expected] of bad) {
    test(`start refuses a config with ${name}, naming the field`, () => {
      const r = wharf(['start', '--config', file('bad.yaml', yaml)], { WHARF_DATA_DIR: join(dir, 'data') })
      assert.equal(r.code, 1)
      // wharf start reports it in its log format: one JSON line; check-config as text on stderr.
      const line = JSON.parse(r.stdout.trim()) as { level: string; msg: string; error: string }
      assert.deepEqual([line.level, line.msg], ['error', 'start-up failed'])
      assert.match(line.error, expected)
      const check = wharf(['check-config', '--config', join(dir, 'bad.yaml')])
      assert.equal(check.code, 1)
      assert.match(check.stderr, expected)
    })
  }

  test('an unreadable config file is named', () => {
    const r = wharf(['check-config', '--config', join(dir, 'missing.yaml')])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /missing\.yaml/)
  })

  test('a bad environment value names the variable', () => {
    const r = wharf(['check-config'], { WHARF_MQTT_PORT: 'abc' })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /WHARF_MQTT_PORT/)
  })

  test('check-config checks the WHARF_BRIDGE_* bridge, and never echoes its password', () => {
    const ok = wharf(['check-config'], {
      WHARF_BRIDGE_URL: 'amqps://edge:s3cret@cloud.example.com',
      WHARF_BRIDGE_OUT_TOPICS: 'devices/+/up/#',
      WHARF_BRIDGE_IN_TOPICS: 'devices/+/cmd/#'
    })
    assert.equal(ok.code, 0, ok.stderr)
    const bad = wharf(['check-config'], { WHARF_BRIDGE_URL: 'smtp://edge:s3cret@cloud.example.com', WHARF_BRIDGE_OUT_TOPICS: 'a/#' })
    assert.equal(bad.code, 1)
    assert.match(
      bad.stderr,
      /config \(WHARF_BRIDGE_URL\): bridges\[0\]\.url = "smtp:\/\/edge:\*\*\*@cloud\.example\.com": must be an amqp:\/\/, amqps:\/\/, mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\/ URL; this one has scheme smtp/
    )
    assert.doesNotMatch(bad.stderr, /s3cret/)
    const filter = wharf(['check-config'], { WHARF_BRIDGE_URL: 'mqtt://cloud', WHARF_BRIDGE_OUT_TOPICS: 'a/#/b' })
    assert.match(filter.stderr, /config \(WHARF_BRIDGE_OUT_TOPICS\): bridges\[0\]\.out\.topics\[0\] = "a\/#\/b"/)
  })

  test("check-config names a bridge's TLS file it cannot read", () => {
    const missing = join(dir, 'no-such-ca.pem')
    const yaml = `bridges:\n  - name: cloud\n    url: mqtts://cloud\n    out: {topics: ["a/#"]}\n    tls: {caFile: ${JSON.stringify(missing)}}\n`
    const r = wharf(['check-config', '--config', file('tls.yaml', yaml)])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /bridges\[0\]\.tls\.caFile = ".*no-such-ca\.pem": must be a readable file: ENOENT/)
    assert.doesNotMatch(r.stdout, /is valid/)
  })

  test('unknown commands and arguments are refused with usage', () => {
    assert.equal(wharf(['fly']).code, 2)
    assert.equal(wharf(['start', '--nope']).code, 2)
  })

  test('passwd prints a scrypt hash usable in auth.users', () => {
    const r = spawnSync(process.execPath, [wharfBin, 'passwd'], { input: 'hunter2\n', encoding: 'utf8', timeout: 20_000 })
    assert.equal(r.status, 0)
    assert.match(r.stdout.trim(), /^scrypt\$/)
  })

  test('passwd --scram prints passwordHash and scramSha256 lines for auth.users', () => {
    const r = spawnSync(process.execPath, [wharfBin, 'passwd', '--scram', '--iterations', '4096'], { input: 'hunter2\n', encoding: 'utf8', timeout: 20_000 })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^passwordHash: scrypt\$\S+\nscramSha256: SCRAM-SHA-256\$4096:\S+\n$/)
  })
})
