// `wharf ctl` against a running broker: aligned tables and --json, closing connections, purging and
// deleting queues (an MQTT session too), add-user with a hidden prompt or a piped password,
// set-permissions, export and import of definitions, and the exit codes of its errors.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import type { ChannelModel } from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { adminFetch, basicAuthorization } from './support/admin-http.ts'
import * as a from './support/amqp-helpers.ts'
import * as m from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'
import { ctlCommand } from '../gateway/ctl/ctl-command.ts'
import { restartablePorts } from '../bench/brokers/free-port.ts'

interface Ran {
  code: number
  stdout: string
  stderr: string
}

/** A fake terminal: raw mode recorded, keys typed once the prompt is read. */
function terminal(keys: string): PassThrough & { isTTY: boolean; setRawMode: (raw: boolean) => void; rawModes: boolean[] } {
  const t = Object.assign(new PassThrough(), {
    isTTY: true,
    rawModes: [] as boolean[],
    setRawMode(raw: boolean) {
      t.rawModes.push(raw)
    }
  })
  setImmediate(() => {
    for (const k of keys) t.write(k)
  })
  return t
}

describe('wharf ctl', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let dir: string

  const ctl = async (args: string[], stdin: NodeJS.ReadableStream = new PassThrough().end()): Promise<Ran> => {
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    let out = ''
    let err = ''
    stdout.on('data', c => {
      out += String(c)
    })
    stderr.on('data', c => {
      err += String(c)
    })
    const code = await ctlCommand(args, { stdin, stdout, stderr }, { WHARF_URL: broker.adminUrl })
    return { code, stdout: out, stderr: err }
  }

  before(async () => {
    broker = await startTestBroker()
    dir = mkdtempSync(join(tmpdir(), 'wharf-ctl-'))
  })
  after(async () => {
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('list queues, exchanges, bindings, vhosts, users, permissions: aligned tables, or JSON', async () => {
    await adminFetch(`${broker.adminUrl}/api/queues/%2F/ctl-orders`, { method: 'PUT', body: '{}' })
    await adminFetch(`${broker.adminUrl}/api/exchanges/%2F/amq.default/publish`, {
      method: 'POST',
      body: JSON.stringify({ routing_key: 'ctl-orders', payload: 'x', properties: {} })
    })
    const r = await ctl(['list', 'queues'])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trimEnd().split('\n')
    assert.match(lines[0] as string, /^VHOST +NAME +TYPE +MESSAGES +READY +UNACKED +CONSUMERS$/)
    const row = lines.find(l => l.includes('ctl-orders')) as string
    assert.equal(row.indexOf('ctl-orders'), (lines[0] as string).indexOf('NAME'), 'columns line up')
    assert.match(row, /classic +1 +1 +0 +0$/)
    const json = await ctl(['--json', 'list', 'queues', '--vhost', '/'])
    assert.deepEqual(
      (JSON.parse(json.stdout) as Array<{ name: string }>).map(q => q.name),
      ['ctl-orders']
    )
    for (const what of ['exchanges', 'bindings', 'vhosts', 'users', 'permissions', 'channels', 'connections']) {
      const out = await ctl(['list', what])
      assert.equal(out.code, 0, `${what}: ${out.stderr}`)
    }
    assert.match((await ctl(['list', 'exchanges'])).stdout, /^\/ +\(default\) +direct/m)
    assert.match((await ctl(['list', 'users'])).stdout, /^guest +administrator$/m)
  })

  test('close-connection, purge-queue, delete-queue (an MQTT session too)', async () => {
    const conn: ChannelModel = await a.connect(broker.amqpUrl)
    const device = await m.connect(broker.mqttUrl, { clientId: 'ctl-device', clean: false, reconnectPeriod: 0 })
    try {
      await eventually('both connected', async () => (JSON.parse((await ctl(['--json', 'list', 'connections'])).stdout) as unknown[]).length === 2)
      const table = (await ctl(['list', 'connections'])).stdout
      assert.match(table, /^NAME +PROTOCOL +USER +VHOST +CLIENT +CONNECTED +CHANNELS +PUBLISHED +PUBLISH\/S +DELIVERED +DELIVER\/S$/m)
      assert.match(table, /MQTT 3\.1\.1 +\/ +ctl-device +\d{4}-\d\d-\d\dT/)
      const conns = JSON.parse((await ctl(['--json', 'list', 'connections'])).stdout) as Array<{ name: string; protocol: string }>
      const amqpName = conns.find(c => c.protocol === 'AMQP 0-9-1')?.name as string
      const closed = new Promise<Error>(resolve => conn.once('close', resolve))
      const r = await ctl(['close-connection', amqpName, '--reason', 'ctl test'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /closed/)
      assert.match((await closed).message, /ctl test/)

      assert.equal((await ctl(['purge-queue', 'ctl-orders'])).code, 0)
      const q = (await (await adminFetch(`${broker.adminUrl}/api/queues/%2F/ctl-orders`)).json()) as { messages: number }
      assert.equal(q.messages, 0)
      const gone = m.closed(device)
      const del = await ctl(['delete-queue', 'mqtt-session/ctl-device'])
      assert.equal(del.code, 0, del.stderr)
      await gone
      assert.equal((await adminFetch(`${broker.adminUrl}/api/queues/%2F/${encodeURIComponent('mqtt-session/ctl-device')}`)).status, 404)
    } finally {
      await a.closeQuietly(conn)
      device.end(true)
    }
  })

  test('add-user asks twice without echo on a terminal, reads a line when piped; set-permissions', async () => {
    const tty = terminal('s3cr3t\rs3cr3t\r')
    const r = await ctl(['add-user', 'ctl-ops', '--tags', 'administrator'], tty)
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(tty.rawModes, [true, false, true, false])
    assert.equal(r.stderr, 'Password for ctl-ops: \nAgain: \n')
    assert.ok(!r.stdout.includes('s3cr3t') && !r.stderr.includes('s3cr3t'), 'the password is never echoed')
    const differ = await ctl(['add-user', 'ctl-x'], terminal('one\rtwo\r'))
    assert.equal(differ.code, 1)
    assert.match(differ.stderr, /the passwords differ/)
    const who = await fetch(`${broker.adminUrl}/api/whoami`, { headers: { authorization: basicAuthorization('ctl-ops', 's3cr3t') } })
    assert.equal(who.status, 200)

    const piped = await ctl(['add-user', 'ctl-app'], new PassThrough().end('app-pass\n'))
    assert.equal(piped.code, 0, piped.stderr)
    const perm = await ctl(['set-permissions', 'ctl-app', '^app-.*', '^app-.*', '.*'])
    assert.equal(perm.code, 0, perm.stderr)
    const perms = JSON.parse((await ctl(['--json', 'list', 'permissions'])).stdout) as Array<Record<string, string>>
    assert.deepEqual(
      perms.find(p => p.user === 'ctl-app'),
      { user: 'ctl-app', vhost: '/', configure: '^app-.*', write: '^app-.*', read: '.*' }
    )
  })

  test('export-definitions and import-definitions (the unsupported items are printed)', async () => {
    const file = join(dir, 'defs.json')
    const exp = await ctl(['export-definitions', file])
    assert.equal(exp.code, 0, exp.stderr)
    assert.match(exp.stdout, /definitions written to .*defs\.json: .*users/)
    const defs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown[]>
    defs.policies = [{ name: 'ha', vhost: '/', pattern: '.*', definition: { 'ha-mode': 'all' } }]
    writeFileSync(file, JSON.stringify(defs))
    const imp = await ctl(['import-definitions', file])
    assert.equal(imp.code, 0, imp.stderr)
    assert.match(imp.stdout, /^imported from .*: .*\d+ queues/m)
    assert.match(imp.stdout, /not imported \(1\):\n {2}policies ha: policies are not supported by Wharf/)
  })

  test('errors are exit-coded: 1 refused, 2 usage, 3 unreachable', async () => {
    const missing = await ctl(['purge-queue', 'no-such-queue'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /404 Not Found: no queue 'no-such-queue' in vhost '\/'/)
    const badAuth = await ctl(['--password', 'wrong', 'list', 'queues'])
    assert.equal(badAuth.code, 1)
    assert.match(badAuth.stderr, /401/)
    const usage = await ctl(['list', 'everything'])
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /list what\?/)
    assert.equal((await ctl(['frobnicate'])).code, 2)
    // Below the ephemeral range, where no other test's port-0 listener can take it meanwhile.
    const [closedPort] = await restartablePorts(1)
    const unreachable = await ctl(['--url', `http://127.0.0.1:${closedPort ?? 0}`, 'list', 'queues'])
    assert.equal(unreachable.code, 3)
    assert.match(unreachable.stderr, /cannot reach the broker's admin API: ECONNREFUSED/)
  })

  test('the wharf command runs ctl (env for the URL and credentials)', async () => {
    const run = await new Promise<Ran>(resolve => {
      execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          "import { main } from './gateway/cli.ts'; process.exitCode = await main(process.argv.slice(1))",
          'ctl',
          '--json',
          'list',
          'vhosts'
        ],
        { timeout: 30_000, env: { ...process.env, WHARF_URL: broker.adminUrl, WHARF_USER: 'guest', WHARF_PASSWORD: 'guest' } },
        (err, stdout, stderr) => resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr })
      )
    })
    assert.equal(run.code, 0, run.stderr)
    assert.deepEqual(
      (JSON.parse(run.stdout) as Array<{ name: string }>).map(v => v.name),
      ['/']
    )
  })
})
