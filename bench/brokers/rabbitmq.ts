import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { amqpServerVersion } from './amqp-probe.ts'
import type { RunningBroker } from './broker.ts'
import { BrokerProcess, tcpPortOpen } from './child-process.ts'
import { findExecutable } from './find-executable.ts'
import { freePorts } from './free-port.ts'
import { descendants, erlangVmPid, killIfSame } from './process-tree.ts'
import { CONFIG_FILE, ENABLED_PLUGINS, ENABLED_PLUGINS_FILE, logFile, RABBITMQ_CONFIG, rabbitmqEnv, type RabbitmqNodePlan } from './rabbitmq-node.ts'

const EPMD_READY_TIMEOUT_MS = 10_000
const READY_TIMEOUT_MS = 60_000
/** RabbitMQ stops in ~2 s here; a node with a large durable backlog takes longer. */
const STOP_GRACE_MS = 20_000
const LOG_TAIL_LINES = 20

/**
 * The server script itself. Debian's /usr/sbin/rabbitmq-server is a wrapper that, run as root,
 * switches to the rabbitmq user with that user's HOME and /var/lib/rabbitmq, so the script it
 * wraps comes first; other layouts (the generic-unix tarball) put the script itself on PATH.
 */
export function findRabbitmqServer(): string | undefined {
  return findExecutable('rabbitmq-server', 'RABBITMQ_SERVER_BIN', ['/usr/lib/rabbitmq/bin/rabbitmq-server'])
}

function findEpmd(): string | undefined {
  return findExecutable('epmd', 'EPMD_BIN', ['/usr/lib/erlang/bin/epmd'])
}

export const RABBITMQ_MISSING =
  'rabbitmq-server not found: install it with `apt-get install -y rabbitmq-server` (Debian/Ubuntu; nothing is installed at run time), ' +
  'or set RABBITMQ_SERVER_BIN to its rabbitmq-server script'

export function rabbitmqUnavailable(): string | undefined {
  if (findRabbitmqServer() === undefined) return RABBITMQ_MISSING
  if (findEpmd() === undefined) return 'epmd (Erlang) not found: install it with `apt-get install -y erlang-base`, or set EPMD_BIN'
  return undefined
}

/**
 * A private RabbitMQ node: its own epmd, config, data and logs under a temporary directory,
 * AMQP, distribution and epmd on free loopback ports, default broker settings and no plugins.
 * A RabbitMQ already running on this machine (the system one on 5672) is not touched.
 */
export async function startRabbitmq(): Promise<RunningBroker> {
  const server = findRabbitmqServer()
  const epmdBinary = findEpmd()
  if (server === undefined || epmdBinary === undefined) throw new Error(rabbitmqUnavailable() ?? RABBITMQ_MISSING)
  const [amqpPort, distPort, epmdPort] = await freePorts(3)
  if (amqpPort === undefined || distPort === undefined || epmdPort === undefined) throw new Error('rabbitmq: no free ports')
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-rabbitmq-'))
  const plan: RabbitmqNodePlan = { dir, nodeName: `wharfbench${randomBytes(4).toString('hex')}@localhost`, amqpPort, distPort, epmdPort }
  writeFileSync(join(dir, CONFIG_FILE), RABBITMQ_CONFIG)
  writeFileSync(join(dir, ENABLED_PLUGINS_FILE), ENABLED_PLUGINS)
  const env = rabbitmqEnv(plan, process.env)

  const epmd = new BrokerProcess('epmd', epmdBinary, ['-port', String(epmdPort), '-address', '127.0.0.1'], { cwd: dir, env })
  let node: BrokerProcess | undefined
  const cleanUp = async (): Promise<void> => {
    if (node !== undefined) await stopNode(node)
    await epmd.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  const url = `amqp://127.0.0.1:${amqpPort}`
  let version: string | undefined
  try {
    await epmd.waitUntil(`epmd on port ${epmdPort}`, EPMD_READY_TIMEOUT_MS, () => tcpPortOpen(epmdPort))
    // Without RABBITMQ_ALLOW_INPUT the script stays the VM's parent and turns the SIGINT of a
    // Ctrl-C (which the VM ignores) into a clean stop.
    node = new BrokerProcess('rabbitmq', server, [], { cwd: dir, env })
    await node.waitUntil(`an AMQP connection to ${url}`, READY_TIMEOUT_MS, async () => {
      version = await amqpServerVersion(url)
      return version !== undefined
    })
  } catch (err) {
    const error = withLogTail(err, plan)
    await cleanUp()
    throw error
  }
  return {
    target: 'rabbitmq',
    endpoints: { amqpUrl: url },
    pid: erlangVmPid(node.pid),
    version: version === '' ? undefined : version,
    stop: cleanUp
  }
}

/**
 * SIGTERM to the script, whose trap stops the VM and waits for it; whatever of the process tree
 * seen before is still there afterwards (the VM if the script had to be killed, its port
 * helpers) is killed by process id.
 */
async function stopNode(node: BrokerProcess): Promise<void> {
  const tree = node.pid === undefined ? [] : descendants(node.pid)
  await node.stop(STOP_GRACE_MS)
  killIfSame(tree)
}

function withLogTail(err: unknown, plan: RabbitmqNodePlan): Error {
  const error = err instanceof Error ? err : new Error(String(err))
  const file = logFile(plan)
  if (!existsSync(file)) return error
  const tail = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n')
  return new Error(`${error.message}\nlast lines of ${file}:\n${tail}`)
}
