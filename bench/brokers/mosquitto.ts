import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RunningBroker } from './broker.ts'
import { BrokerProcess, tcpPortOpen } from './child-process.ts'
import { findExecutable } from './find-executable.ts'
import { freePorts } from './free-port.ts'

const READY_TIMEOUT_MS = 10_000

/** The mosquitto binary: $MOSQUITTO_BIN, else the first `mosquitto` on PATH or in the sbin directories. */
export function findMosquitto(): string | undefined {
  return findExecutable('mosquitto', 'MOSQUITTO_BIN')
}

export const MOSQUITTO_MISSING = 'mosquitto not found: install it (Debian: apt-get install mosquitto) or set MOSQUITTO_BIN to its path'

/** The broker settings the comparison is made under; see bench/README.md. */
function mosquittoConfig(port: number): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'max_queued_messages 1000000',
    'max_inflight_messages 100',
    // Mosquitto's default, stated: idle-connections opens 10,000 clients (its fd limit is the harness's).
    'max_connections -1',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    ''
  ].join('\n')
}

export async function startMosquitto(): Promise<RunningBroker> {
  const binary = findMosquitto()
  if (binary === undefined) throw new Error(MOSQUITTO_MISSING)
  const [port] = await freePorts(1)
  if (port === undefined) throw new Error('mosquitto: no free port')
  const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-mosquitto-'))
  const configFile = join(dir, 'mosquitto.conf')
  writeFileSync(configFile, mosquittoConfig(port))
  const broker = new BrokerProcess('mosquitto', binary, ['-c', configFile], {})
  try {
    await broker.waitUntil(`port ${port}`, READY_TIMEOUT_MS, () => tcpPortOpen(port))
  } catch (err) {
    await broker.stop()
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return {
    target: 'mosquitto',
    endpoints: { mqttUrl: `mqtt://127.0.0.1:${port}` },
    pid: broker.pid,
    version: mosquittoVersion(binary),
    async stop() {
      await broker.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** `mosquitto -h` prints "mosquitto version X" on its first line. */
function mosquittoVersion(binary: string): string | undefined {
  const help = spawnSync(binary, ['-h'], { encoding: 'utf8', timeout: 5000 })
  const match = /mosquitto version (\S+)/.exec(`${help.stdout}${help.stderr}`)
  return match?.[1]
}
