import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BrokerProcess, httpStatusIs } from './child-process.ts'
import { freePorts, retryOnPortTaken } from './free-port.ts'

const READY_TIMEOUT_MS = 30_000
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface EdgeWharfOptions {
  /** Kept across restarts (the bridge's backlog lives in it). The caller removes it. */
  readonly dataDir: string
  /** Written as the config file (bridges: ...). */
  readonly configYaml: string
  readonly env?: Readonly<Record<string, string>>
}

export interface EdgeWharf {
  readonly amqpUrl: string
  readonly adminUrl: string
  readonly pid: number | undefined
  stop(): Promise<void>
}

/**
 * `node gateway/bin/wharf.js start` on a data directory the caller owns and a config file of its
 * own (the bridge scenario's edge), on free loopback ports. Stopped with SIGTERM, which drains it.
 */
export function startEdgeWharf(options: EdgeWharfOptions): Promise<EdgeWharf> {
  return retryOnPortTaken(() => startOnFreePorts(options))
}

async function startOnFreePorts(options: EdgeWharfOptions): Promise<EdgeWharf> {
  const [mqttPort, wsPort, amqpPort, adminPort] = await freePorts(4)
  if (mqttPort === undefined || wsPort === undefined || amqpPort === undefined || adminPort === undefined) throw new Error('wharf: no free ports')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WHARF_DATA_DIR: options.dataDir,
    WHARF_HOST: '127.0.0.1',
    WHARF_MQTT_PORT: String(mqttPort),
    WHARF_WS_PORT: String(wsPort),
    WHARF_AMQP_PORT: String(amqpPort),
    WHARF_ADMIN_PORT: String(adminPort),
    WHARF_LOG_LEVEL: 'warn',
    ...options.env
  }
  const configFile = join(options.dataDir, 'bench-edge.yaml')
  writeFileSync(configFile, options.configYaml)
  const entry = join(REPO_ROOT, 'gateway', 'bin', 'wharf.js')
  const broker = new BrokerProcess('wharf', process.execPath, [...profileArgs(), entry, 'start', '--config', configFile], { cwd: REPO_ROOT, env })
  const adminUrl = `http://127.0.0.1:${adminPort}`
  try {
    await broker.waitUntil(`200 from ${adminUrl}/readyz`, READY_TIMEOUT_MS, () => httpStatusIs(`${adminUrl}/readyz`, 200))
  } catch (err) {
    await broker.stop()
    throw err
  }
  return { amqpUrl: `amqp://guest:guest@127.0.0.1:${amqpPort}`, adminUrl, pid: broker.pid, stop: () => broker.stop(30_000) }
}

/** The same switch as bench/brokers/wharf.ts: a V8 CPU profile of each Wharf run, to find what limits it. */
function profileArgs(): string[] {
  const dir = process.env['WHARF_BENCH_BROKER_PROFILE_DIR']
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]
}
