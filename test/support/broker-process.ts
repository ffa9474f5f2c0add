import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

const wharfBin = fileURLToPath(new URL('../../gateway/bin/wharf.js', import.meta.url))

export interface BrokerProcess {
  child: ChildProcess
  ports: { mqtt: number; ws: number; amqp: number; admin: number }
  lines: string[]
  /** SIGKILL: no drain, no flush — what a crash looks like. */
  kill(): Promise<void>
  /** SIGTERM and wait for exit; resolves with the exit code. */
  terminate(): Promise<number | null>
}

/** Start `wharf start` as a child process on free ports; resolves once it logs readiness. */
export async function startBrokerProcess(
  dataDir: string,
  env: Record<string, string | undefined> = {},
  args: string[] = [],
  timeoutMs = 20_000
): Promise<BrokerProcess> {
  const child = spawn(process.execPath, [wharfBin, 'start', ...args], { env: childEnv(dataDir, env), stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  createInterface({ input: child.stderr! }).on('line', l => lines.push(l))
  const ports = await new Promise<BrokerProcess['ports']>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`broker not ready within ${timeoutMs} ms:\n${lines.join('\n')}`))
    }, timeoutMs)
    createInterface({ input: child.stdout! }).on('line', line => {
      lines.push(line)
      try {
        const entry = JSON.parse(line) as { msg?: string; ports?: BrokerProcess['ports'] }
        if (entry.msg === 'wharf ready' && entry.ports) {
          clearTimeout(timer)
          resolve(entry.ports)
        }
      } catch {
        // log.format text: `<time> INFO  wharf ready ... ports={...}`; anything else stays in lines for the error report
        const text = / wharf ready .*\bports=(\{[^}]*\})/.exec(line)
        if (text !== null) {
          clearTimeout(timer)
          resolve(JSON.parse(text[1] as string) as BrokerProcess['ports'])
        }
      }
    })
    void exited.then(code => {
      clearTimeout(timer)
      reject(new Error(`broker exited with ${code} before ready:\n${lines.join('\n')}`))
    })
  })
  return {
    child,
    ports,
    lines,
    kill: async () => {
      child.kill('SIGKILL')
      await exited
    },
    terminate: async () => {
      child.kill('SIGTERM')
      return await exited
    }
  }
}

export interface WharfExit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string[]
  stderr: string[]
  elapsedMs: number
  /** The child's pid, e.g. to compare with the one another instance names. */
  pid: number
}

/**
 * Runs `wharf start` (loopback, free ports unless env says otherwise) until it exits by itself; SIGKILL and
 * a rejection after timeoutMs, so a broker that never exits fails the test instead of hanging it.
 */
export async function runWharfToExit(
  dataDir: string,
  env: Record<string, string | undefined> = {},
  args: string[] = [],
  timeoutMs = 20_000
): Promise<WharfExit> {
  const startedMs = Date.now()
  const child = spawn(process.execPath, [wharfBin, 'start', ...args], { env: childEnv(dataDir, env), stdio: ['ignore', 'pipe', 'pipe'] })
  const stdout: string[] = []
  const stderr: string[] = []
  createInterface({ input: child.stdout! }).on('line', l => stdout.push(l))
  createInterface({ input: child.stderr! }).on('line', l => stderr.push(l))
  return await new Promise<WharfExit>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`wharf did not exit within ${timeoutMs} ms:\n${[...stdout, ...stderr].join('\n')}`))
    }, timeoutMs)
    // 'close' rather than 'exit': every line the child wrote has been read.
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, elapsedMs: Date.now() - startedMs, pid: child.pid ?? -1 })
    })
  })
}

/** Loopback and free ports unless env says otherwise; a variable set to undefined is removed. */
function childEnv(dataDir: string, env: Record<string, string | undefined>): Record<string, string> {
  const all: Record<string, string | undefined> = {
    ...process.env,
    WHARF_DATA_DIR: dataDir,
    WHARF_HOST: '127.0.0.1',
    WHARF_MQTT_PORT: '0',
    WHARF_WS_PORT: '0',
    WHARF_AMQP_PORT: '0',
    WHARF_ADMIN_PORT: '0',
    WHARF_LOG_LEVEL: 'info',
    ...env
  }
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(all)) if (value !== undefined) out[key] = value
  return out
}

/**
 * Brokers started, and restarted, on one temp data dir with a config file of `configYaml`: every one
 * is killed, then the dir removed, when the test ends (the hook runs first of those added after it).
 */
export function brokersOnOneDataDir(
  t: { after(fn: () => Promise<void>): void },
  prefix: string,
  configYaml: string
): { start(): Promise<BrokerProcess>; readonly dataDir: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const configFile = join(dir, 'wharf.yaml')
  writeFileSync(configFile, configYaml)
  const dataDir = join(dir, 'data')
  const started: BrokerProcess[] = []
  t.after(async () => {
    await Promise.all(started.map(b => b.kill()))
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    dataDir,
    async start() {
      const broker = await startBrokerProcess(dataDir, {}, ['--config', configFile])
      started.push(broker)
      return broker
    }
  }
}
