// A private RabbitMQ node (Debian's rabbitmq-server) for tests that talk to RabbitMQ itself: its own
// epmd, dirs and loopback ports (bench/brokers/rabbitmq.ts runs it so too), optionally with the
// management and MQTT plugins, stopped by process id. The node can be stopped and started again on
// the same ports and data (a remote outage). RabbitMQ is heavy: one per test file.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BrokerProcess, tcpPortOpen } from '../../bench/brokers/child-process.ts'
import { restartablePorts } from '../../bench/brokers/free-port.ts'
import { descendants, killIfSame } from '../../bench/brokers/process-tree.ts'
import { findRabbitmqServer, rabbitmqUnavailable } from '../../bench/brokers/rabbitmq.ts'
import { amqpServerVersion } from '../../bench/brokers/amqp-probe.ts'
import { CONFIG_FILE, ENABLED_PLUGINS_FILE, logFile, rabbitmqEnv, type RabbitmqNodePlan } from '../../bench/brokers/rabbitmq-node.ts'
import { findExecutable } from '../../bench/brokers/find-executable.ts'

export interface RabbitmqNode {
  readonly amqpUrl: string
  /** http://127.0.0.1:<port>, guest/guest from loopback; '' without the management plugin. */
  readonly managementUrl: string
  /** mqtt://127.0.0.1:<port> (the MQTT plugin, MQTT 3.1.1); '' without it. */
  readonly mqttUrl: string
  /** The node's pid (the rabbitmq-server script), while it runs. */
  readonly pid: number | undefined
  /** Stops the node only: epmd, ports and data stay for startNode(). */
  stopNode(): Promise<void>
  startNode(): Promise<void>
  /** Stops everything and deletes the node's directory. */
  stop(): Promise<void>
}

export interface RabbitmqOptions {
  readonly management?: boolean
  readonly mqtt?: boolean
  readonly plugins?: readonly string[]
}

const readyTimeoutMs = 90_000
const stopGraceMs = 20_000
const guestAuth = 'Basic ' + Buffer.from('guest:guest').toString('base64')

export { rabbitmqUnavailable }

export async function startRabbitmqWithManagement(plugins: readonly string[] = []): Promise<RabbitmqNode> {
  return await startRabbitmq({ management: true, plugins })
}

export async function startRabbitmq(opts: RabbitmqOptions = {}): Promise<RabbitmqNode> {
  const server = findRabbitmqServer()
  const epmdBinary = findExecutable('epmd', 'EPMD_BIN', ['/usr/lib/erlang/bin/epmd'])
  if (server === undefined || epmdBinary === undefined) throw new Error(rabbitmqUnavailable() ?? 'rabbitmq-server not found')
  const [amqpPort, distPort, epmdPort, httpPort, mqttPort] = (await restartablePorts(5)) as [number, number, number, number, number]
  const dir = mkdtempSync(join(tmpdir(), 'wharf-test-rabbitmq-'))
  const plan: RabbitmqNodePlan = { dir, nodeName: `wharftest${randomBytes(4).toString('hex')}@localhost`, amqpPort, distPort, epmdPort }
  const config = ['log.console = true', 'log.console.level = warning']
  const plugins = [...(opts.plugins ?? [])]
  if (opts.management === true) {
    plugins.unshift('rabbitmq_management')
    config.push(`management.tcp.port = ${httpPort}`, 'management.tcp.ip = 127.0.0.1')
  }
  if (opts.mqtt === true) {
    plugins.push('rabbitmq_mqtt')
    config.push(`mqtt.listeners.tcp.1 = 127.0.0.1:${mqttPort}`)
  }
  writeFileSync(join(dir, CONFIG_FILE), config.join('\n') + '\n')
  writeFileSync(join(dir, ENABLED_PLUGINS_FILE), `[${plugins.join(',')}].\n`)
  const env = rabbitmqEnv(plan, process.env)
  const epmd = new BrokerProcess('epmd', epmdBinary, ['-port', String(epmdPort), '-address', '127.0.0.1'], { cwd: dir, env })
  let node: BrokerProcess | undefined
  const amqpUrl = `amqp://guest:guest@127.0.0.1:${amqpPort}`
  const managementUrl = opts.management === true ? `http://127.0.0.1:${httpPort}` : ''
  const mqttUrl = opts.mqtt === true ? `mqtt://127.0.0.1:${mqttPort}` : ''
  const ready = async (): Promise<boolean> => {
    if (managementUrl !== '') {
      try {
        if ((await fetch(`${managementUrl}/api/overview`, { headers: { authorization: guestAuth }, signal: AbortSignal.timeout(2000) })).status !== 200)
          return false
      } catch {
        return false
      }
    } else if ((await amqpServerVersion(amqpUrl)) === undefined) {
      return false
    }
    return mqttUrl === '' || (await tcpPortOpen(mqttPort))
  }
  const stopNode = async (): Promise<void> => {
    const running = node
    node = undefined
    if (running === undefined) return
    const tree = running.pid === undefined ? [] : descendants(running.pid)
    await running.stop(stopGraceMs)
    killIfSame(tree)
  }
  const startNode = async (): Promise<void> => {
    if (node !== undefined) return
    const started = new BrokerProcess('rabbitmq', server, [], { cwd: dir, env })
    node = started
    await started.waitUntil(managementUrl !== '' ? `the management API on ${managementUrl}` : `AMQP on ${amqpPort}`, readyTimeoutMs, ready)
  }
  const stop = async (): Promise<void> => {
    await stopNode()
    await epmd.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await epmd.waitUntil(`epmd on port ${epmdPort}`, 10_000, async () => await tcpPortOpen(epmdPort))
    await startNode()
  } catch (err) {
    const file = logFile(plan)
    const tail = existsSync(file) ? `\nlast lines of ${file}:\n${readFileSync(file, 'utf8').split('\n').slice(-20).join('\n')}` : ''
    await stop()
    throw new Error(`${(err as Error).message}${tail}`)
  }
  return {
    amqpUrl,
    managementUrl,
    mqttUrl,
    get pid() {
      return node?.pid
    },
    stopNode,
    startNode,
    stop
  }
}
