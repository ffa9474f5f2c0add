import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunningBroker } from './broker.ts'
import { BrokerProcess, httpStatusIs } from './child-process.ts'
import { freePorts, retryOnPortTaken } from './free-port.ts'

const READY_TIMEOUT_MS = 30_000
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * Starts `node gateway/bin/wharf.js start` on free ports with a fresh data directory and
 * waits for GET /readyz to return 200; stops with SIGTERM (SIGKILL after 10 s).
 */
export function startWharf(): Promise<RunningBroker> {
  return retryOnPortTaken(startOnFreePorts)
}

async function startOnFreePorts(): Promise<RunningBroker> {
  const ports = await freePorts(4)
  const [mqttPort, wsPort, amqpPort, adminPort] = ports
  if (mqttPort === undefined || wsPort === undefined || amqpPort === undefined || adminPort === undefined) {
    throw new Error('wharf: no free ports')
  }
  const durability = process.env['WHARF_DURABILITY'] ?? 'process'
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-bench-data-'))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WHARF_DATA_DIR: dataDir,
    WHARF_HOST: '127.0.0.1',
    WHARF_MQTT_PORT: String(mqttPort),
    WHARF_WS_PORT: String(wsPort),
    WHARF_AMQP_PORT: String(amqpPort),
    WHARF_ADMIN_PORT: String(adminPort),
    WHARF_LOG_LEVEL: 'warn',
    // Stated rather than left to Wharf's default, so the report can say which one was measured:
    // `power` (fsync per commit) is what RabbitMQ does before it confirms a persistent message.
    WHARF_DURABILITY: durability
  }
  // The same queue and window bounds as the Mosquitto run (bench/brokers/mosquitto.ts), so both
  // brokers hold a subscriber's backlog instead of dropping it at a limit; and no connection limit
  // short of the process's fd limit (Mosquitto's max_connections -1): idle-connections opens 10,000
  // clients plus a probe, and the default mqtt.maxConnections is 10,000.
  const configFile = join(dataDir, 'bench.yaml')
  writeFileSync(configFile, 'mqtt:\n  maxQueuedMessages: 1000000\n  maxQueuedBytes: 1073741824\n  maxInflightMessages: 100\n  maxConnections: 1000000\n')
  const entry = join(REPO_ROOT, 'gateway', 'bin', 'wharf.js')
  const broker = new BrokerProcess('wharf', process.execPath, [...profileArgs(), entry, 'start', '--config', configFile], { cwd: REPO_ROOT, env })
  const readyUrl = `http://127.0.0.1:${adminPort}/readyz`
  try {
    await broker.waitUntil(`200 from ${readyUrl}`, READY_TIMEOUT_MS, () => httpStatusIs(readyUrl, 200))
  } catch (err) {
    await broker.stop()
    rmSync(dataDir, { recursive: true, force: true })
    throw err
  }
  return {
    target: 'wharf',
    // /mqtt is Wharf's default mqtt.ws.path, which the bench config leaves alone.
    endpoints: { mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, amqpUrl: `amqp://127.0.0.1:${amqpPort}`, mqttWsUrl: `ws://127.0.0.1:${wsPort}/mqtt` },
    pid: broker.pid,
    version: `${wharfVersion() ?? '?'} (durability ${durability})`,
    async stop() {
      await broker.stop()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/**
 * WHARF_BENCH_BROKER_PROFILE_DIR=dir writes a V8 CPU profile of each Wharf run there (written when
 * SIGTERM drains it): what limits the broker in a scenario.
 */
function profileArgs(): string[] {
  const dir = process.env['WHARF_BENCH_BROKER_PROFILE_DIR']
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]
}

function wharfVersion(): string | undefined {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'))
    const version = (pkg as { version?: unknown }).version
    return typeof version === 'string' ? version : undefined
  } catch {
    return undefined
  }
}
