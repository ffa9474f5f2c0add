// Debian's rabbitmqadmin (RabbitMQ's own management CLI, /usr/bin/rabbitmqadmin) drives Wharf's
// management API: list, declare, publish, get, purge, delete, close, export and import, each run as
// a child process with a bound on its time.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChannelModel } from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import * as a from './support/amqp-helpers.ts'
import * as m from './support/mqtt-helpers.ts'
import { eventually } from './support/wait.ts'

const rabbitmqadmin = '/usr/bin/rabbitmqadmin'
const commandTimeoutMs = 20_000

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(broker: TestBroker, ...args: string[]): Promise<Run> {
  return new Promise(resolve => {
    execFile(
      'python3',
      [rabbitmqadmin, '-H', '127.0.0.1', '-P', String(broker.node.ports.admin), '-u', 'guest', '-p', 'guest', ...args],
      { timeout: commandTimeoutMs },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
      }
    )
  })
}

async function ok(broker: TestBroker, ...args: string[]): Promise<string> {
  const r = await run(broker, ...args)
  assert.equal(r.code, 0, `rabbitmqadmin ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`)
  return r.stdout
}

async function listJson(broker: TestBroker, what: string): Promise<Array<Record<string, unknown>>> {
  return JSON.parse(await ok(broker, '-f', 'raw_json', 'list', what)) as Array<Record<string, unknown>>
}

describe('rabbitmqadmin against Wharf', { timeout: 90_000 }, () => {
  let broker: TestBroker
  let amqp: ChannelModel
  let dir: string

  before(async () => {
    assert.ok(existsSync(rabbitmqadmin), `${rabbitmqadmin} is missing: install Debian's rabbitmq-server package (test/debian-packages.sh does)`)
    broker = await startTestBroker()
    amqp = await a.connect(broker.amqpUrl)
    await amqp.createChannel()
    dir = mkdtempSync(join(tmpdir(), 'wharf-rabbitmqadmin-'))
  })
  after(async () => {
    await a.closeQuietly(amqp)
    await broker.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('declare queue, exchange and binding; list them as tables and as JSON', async () => {
    await ok(broker, 'declare', 'queue', 'name=admin-q', 'durable=true', 'arguments={"x-max-length": 50}')
    await ok(broker, 'declare', 'exchange', 'name=admin-x', 'type=topic')
    await ok(broker, 'declare', 'binding', 'source=admin-x', 'destination=admin-q', 'routing_key=orders.#')
    const table = await ok(broker, 'list', 'queues')
    assert.match(table, /\| +name +\| +messages +\|/)
    assert.match(table, /\| admin-q +\| 0 +\|/)
    const queues = await listJson(broker, 'queues')
    assert.deepEqual(queues.find(q => q.name === 'admin-q')?.arguments, { 'x-max-length': 50 })
    const exchanges = await listJson(broker, 'exchanges')
    assert.equal(exchanges.find(x => x.name === 'admin-x')?.type, 'topic')
    const bindings = await listJson(broker, 'bindings')
    assert.ok(
      bindings.some(b => b.source === 'admin-x' && b.destination === 'admin-q' && b.routing_key === 'orders.#'),
      JSON.stringify(bindings)
    )
    assert.match(await ok(broker, 'list', 'bindings'), /\| admin-x +\| admin-q +\| orders\.# +\|/)
  })

  test('list connections, channels, vhosts, users, permissions (and nodes, consumers, show overview)', async () => {
    const device = await m.connect(broker.mqttUrl, { clientId: 'admin-device' })
    try {
      await eventually('both connections listed', async () => (await listJson(broker, 'connections')).length === 2)
      const connections = await listJson(broker, 'connections')
      assert.deepEqual(connections.map(c => c.protocol).sort(), ['AMQP 0-9-1', 'MQTT 3.1.1'])
      assert.match(await ok(broker, 'list', 'connections'), /\| +name +\| +user +\| channels \|/)
      const channels = await listJson(broker, 'channels')
      assert.equal(channels.length, 1)
      assert.deepEqual(
        (await listJson(broker, 'vhosts')).map(v => v.name),
        ['/']
      )
      assert.deepEqual(
        (await listJson(broker, 'users')).map(u => u.name),
        ['guest']
      )
      assert.deepEqual(
        (await listJson(broker, 'permissions')).map(p => [p.user, p.vhost, p.configure]),
        [['guest', '/', '.*']]
      )
      assert.match(await ok(broker, 'list', 'users'), /guest/)
      assert.match(await ok(broker, 'list', 'permissions'), /guest/)
      assert.match(await ok(broker, 'list', 'nodes'), /wharf@/)
      await ok(broker, 'list', 'consumers')
      assert.match(await ok(broker, 'show', 'overview'), /queue_totals\.messages/)
    } finally {
      await m.end(device)
    }
  })

  test('publish, get (requeued), purge queue, delete queue', async () => {
    await ok(broker, 'publish', 'exchange=admin-x', 'routing_key=orders.new', 'payload=first order')
    await ok(broker, 'publish', 'routing_key=admin-q', 'payload=straight to the queue')
    const got = JSON.parse(await ok(broker, '-f', 'raw_json', 'get', 'queue=admin-q', 'count=2')) as Array<Record<string, unknown>>
    assert.deepEqual(
      got.map(g => g.payload),
      ['first order', 'straight to the queue']
    )
    assert.match(await ok(broker, 'get', 'queue=admin-q'), /first order/)
    assert.equal((await listJson(broker, 'queues')).find(q => q.name === 'admin-q')?.messages, 2, 'get requeues by default')
    await ok(broker, 'purge', 'queue', 'name=admin-q')
    assert.equal((await listJson(broker, 'queues')).find(q => q.name === 'admin-q')?.messages, 0)
    await ok(broker, 'delete', 'queue', 'name=admin-q')
    assert.equal(
      (await listJson(broker, 'queues')).some(q => q.name === 'admin-q'),
      false
    )
    const missing = await run(broker, 'delete', 'queue', 'name=admin-q')
    assert.notEqual(missing.code, 0)
    assert.match(missing.stderr, /Not found: \/api\/queues\/%2F\/admin-q/)
  })

  test('close connection: AMQP and MQTT clients are disconnected', async () => {
    const victim = await a.connect(broker.amqpUrl)
    const device = await m.connect(broker.mqttUrl, { clientId: 'admin-victim', reconnectPeriod: 0 })
    try {
      let list: Array<Record<string, unknown>> = []
      await eventually('connections listed', async () => {
        list = await listJson(broker, 'connections')
        return list.length === 3
      })
      const mqttName = list.find(c => c.client_id === 'admin-victim')?.name as string
      // The victim's name starts with its own address, as the broker sees it.
      const localPort = (victim as unknown as { connection: { stream: { localPort: number } } }).connection.stream.localPort
      const amqpName = list.find(c => c.peer_port === localPort)?.name as string
      assert.ok(mqttName !== undefined && amqpName !== undefined, JSON.stringify(list))
      const closed = new Promise<void>(resolve => victim.once('close', () => resolve()))
      const gone = m.closed(device)
      await ok(broker, 'close', 'connection', `name=${mqttName}`)
      await gone
      await ok(broker, 'close', 'connection', `name=${amqpName}`)
      await Promise.race([
        closed,
        new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the AMQP connection was not closed within 5 s')), 5000).unref())
      ])
      await eventually("only the suite's connection is left", async () => (await listJson(broker, 'connections')).length === 1)
    } finally {
      await a.closeQuietly(victim)
      device.end(true)
    }
  })

  test('export, then import into a fresh broker: the file round-trips', async () => {
    await ok(broker, 'declare', 'vhost', 'name=tenant-b')
    await ok(broker, 'declare', 'user', 'name=ops', 'password=ops-secret', 'tags=administrator,monitoring')
    await ok(broker, 'declare', 'permission', 'vhost=tenant-b', 'user=ops', 'configure=.*', 'write=.*', 'read=^ops-.*')
    // The built-in guest acts in '/' only: ops declares in its vhost (the last -u/-p given wins).
    const asOps = ['-u', 'ops', '-p', 'ops-secret', '-V', 'tenant-b']
    await ok(broker, ...asOps, 'declare', 'queue', 'name=ops-stream', 'queue_type=stream')
    await ok(broker, ...asOps, 'declare', 'exchange', 'name=ops-fanout', 'type=fanout', 'durable=false')
    await ok(broker, ...asOps, 'declare', 'binding', 'source=ops-fanout', 'destination=ops-stream')
    const first = join(dir, 'first.json')
    await ok(broker, 'export', first)
    const exported = JSON.parse(readFileSync(first, 'utf8')) as Record<string, Array<Record<string, unknown>>>
    assert.ok(exported.users?.some(u => u.name === 'ops' && (u.tags as string[]).includes('monitoring')))
    assert.ok(exported.queues?.some(q => q.name === 'ops-stream' && (q.arguments as Record<string, unknown>)['x-queue-type'] === 'stream'))

    const fresh = await startTestBroker()
    try {
      await ok(fresh, 'import', first)
      const second = join(dir, 'second.json')
      await ok(fresh, 'export', second)
      const strip = (defs: Record<string, unknown>): Record<string, unknown> => ({ ...defs, product_version: undefined })
      assert.deepEqual(strip(JSON.parse(readFileSync(second, 'utf8'))), strip(exported))
      const res = await fetch(`http://127.0.0.1:${fresh.node.ports.admin}/api/whoami`, {
        headers: { authorization: 'Basic ' + Buffer.from('ops:ops-secret').toString('base64') }
      })
      assert.equal(res.status, 200, 'the imported user logs in with its password')
    } finally {
      await fresh.close()
    }
  })
})
