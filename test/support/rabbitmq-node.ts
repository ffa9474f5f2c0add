// A private RabbitMQ node (Debian's rabbitmq-server) with the management plugin, for tests that compare
// with RabbitMQ itself: its own epmd, dirs and loopback ports (bench/brokers/rabbitmq.ts runs it so too),
// stopped by process id. RabbitMQ is heavy: one per test file.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BrokerProcess, tcpPortOpen } from '../../bench/brokers/child-process.ts'
import { freePorts } from '../../bench/brokers/free-port.ts'
import { descendants, killIfSame } from '../../bench/brokers/process-tree.ts'
import { findRabbitmqServer, rabbitmqUnavailable } from '../../bench/brokers/rabbitmq.ts'
import { CONFIG_FILE, ENABLED_PLUGINS_FILE, logFile, rabbitmqEnv, type RabbitmqNodePlan } from '../../bench/brokers/rabbitmq-node.ts'
import { findExecutable } from '../../bench/brokers/find-executable.ts'

export interface RabbitmqNode {
  readonly amqpUrl: string
  /** http://127.0.0.1:<port>, guest/guest from loopback. */
  readonly managementUrl: string
  stop (): Promise<void>
}

const readyTimeoutMs = 90_000
const stopGraceMs = 20_000

export { rabbitmqUnavailable }

export async function startRabbitmqWithManagement (plugins: readonly string[] = []): Promise<RabbitmqNode> {
  const server = findRabbitmqServer()
  const epmdBinary = findExecutable('epmd', 'EPMD_BIN', ['/usr/lib/erlang/bin/epmd'])
  if (server === undefined || epmdBinary === undefined) throw new Error(rabbitmqUnavailable() ?? 'rabbitmq-server not found')
  const [amqpPort, distPort, epmdPort, httpPort] = await freePorts(4)
  if (amqpPort === undefined || distPort === undefined || epmdPort === undefined || httpPort === undefined) throw new Error('rabbitmq: no free ports')
  const dir = mkdtempSync(join(tmpdir(), 'wharf-test-rabbitmq-'))
  const plan: RabbitmqNodePlan = { dir, nodeName: `wharftest${randomBytes(4).toString('hex')}@localhost`, amqpPort, distPort, epmdPort }
  writeFileSync(join(dir, CONFIG_FILE), ['log.console = true', 'log.console.level = warning', `management.tcp.port = ${httpPort}`, 'management.tcp.ip = 127.0.0.1', ''].join('\n'))
  writeFileSync(join(dir, ENABLED_PLUGINS_FILE), `[${['rabbitmq_management', ...plugins].join(',')}].\n`)
  const env = rabbitmqEnv(plan, process.env)
  const epmd = new BrokerProcess('epmd', epmdBinary, ['-port', String(epmdPort), '-address', '127.0.0.1'], { cwd: dir, env })
  let node: BrokerProcess | undefined
  const managementUrl = `http://127.0.0.1:${httpPort}`
  const stop = async (): Promise<void> => {
    if (node !== undefined) {
      const tree = node.pid === undefined ? [] : descendants(node.pid)
      await node.stop(stopGraceMs)
      killIfSame(tree)
    }
    await epmd.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await epmd.waitUntil(`epmd on port ${epmdPort}`, 10_000, async () => await tcpPortOpen(epmdPort))
    node = new BrokerProcess('rabbitmq', server, [], { cwd: dir, env })
    const auth = 'Basic ' + Buffer.from('guest:guest').toString('base64')
    await node.waitUntil(`the management API on ${managementUrl}`, readyTimeoutMs, async () => {
      try {
        return (await fetch(`${managementUrl}/api/overview`, { headers: { authorization: auth }, signal: AbortSignal.timeout(2000) })).status === 200
      } catch {
        return false
      }
    })
  } catch (err) {
    const file = logFile(plan)
    const tail = existsSync(file) ? `\nlast lines of ${file}:\n${readFileSync(file, 'utf8').split('\n').slice(-20).join('\n')}` : ''
    await stop()
    throw new Error(`${(err as Error).message}${tail}`)
  }
  return { amqpUrl: `amqp://guest:guest@127.0.0.1:${amqpPort}`, managementUrl, stop }
}
