import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BrokerProcess, httpStatusIs } from './child-process.ts'
import { freePorts } from './free-port.ts'

const READY_TIMEOUT_MS = 30_000
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Where a tiered Wharf offloads: an S3-compatible server on loopback and its credentials. */
export interface S3Target {
  readonly endpoint: string
  readonly bucket: string
  readonly prefix: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

export interface TieredWharfOptions {
  /** Kept across restarts: the second start finds the first one's streams. The caller removes it. */
  readonly dataDir: string
  readonly s3: S3Target
  /** Written as the config file (streams.*, tiering.* beyond what the environment sets). */
  readonly configYaml: string
  /** Extra WHARF_* variables, e.g. WHARF_TIERING_LOCAL_AGE_SECONDS. */
  readonly env: Readonly<Record<string, string>>
}

export interface TieredWharf {
  readonly amqpUrl: string
  readonly adminUrl: string
  readonly pid: number | undefined
  stop(): Promise<void>
}

/**
 * `node gateway/bin/wharf.js start` as bench/brokers/wharf.ts starts it, but on a data directory
 * the caller owns (so a restart keeps the stream) and with tiering to S3. Stopped with SIGTERM,
 * which drains it (and writes its CPU profile when WHARF_BENCH_BROKER_PROFILE_DIR is set).
 */
export async function startTieredWharf(options: TieredWharfOptions): Promise<TieredWharf> {
  const [mqttPort, wsPort, amqpPort, adminPort] = await freePorts(4)
  if (mqttPort === undefined || wsPort === undefined || amqpPort === undefined || adminPort === undefined) {
    throw new Error('wharf: no free ports')
  }
  const { s3 } = options
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WHARF_DATA_DIR: options.dataDir,
    WHARF_HOST: '127.0.0.1',
    WHARF_MQTT_PORT: String(mqttPort),
    WHARF_WS_PORT: String(wsPort),
    WHARF_AMQP_PORT: String(amqpPort),
    WHARF_ADMIN_PORT: String(adminPort),
    WHARF_LOG_LEVEL: 'warn',
    WHARF_DURABILITY: process.env['WHARF_DURABILITY'] ?? 'process',
    WHARF_TIERING_URL: `s3://${s3.bucket}/${s3.prefix}`,
    WHARF_S3_ENDPOINT: s3.endpoint,
    WHARF_S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...options.env
  }
  const configFile = join(options.dataDir, 'bench-tiered.yaml')
  writeFileSync(configFile, options.configYaml)
  const entry = join(REPO_ROOT, 'gateway', 'bin', 'wharf.js')
  const args = [...profileArgs(), entry, 'start', '--config', configFile]
  const broker = new BrokerProcess('wharf', process.execPath, args, { cwd: REPO_ROOT, env })
  const adminUrl = `http://127.0.0.1:${adminPort}`
  try {
    await broker.waitUntil(`200 from ${adminUrl}/readyz`, READY_TIMEOUT_MS, () => httpStatusIs(`${adminUrl}/readyz`, 200))
  } catch (err) {
    await broker.stop()
    throw err
  }
  return { amqpUrl: `amqp://127.0.0.1:${amqpPort}`, adminUrl, pid: broker.pid, stop: () => broker.stop() }
}

/** The same switch as bench/brokers/wharf.ts: a V8 CPU profile of each Wharf run, to find what limits it. */
function profileArgs(): string[] {
  const dir = process.env['WHARF_BENCH_BROKER_PROFILE_DIR']
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]
}
