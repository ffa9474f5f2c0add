import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'

const wharfBin = fileURLToPath(new URL('../../gateway/bin/wharf.js', import.meta.url))

export interface BrokerProcess {
  child: ChildProcess
  ports: { mqtt: number, ws: number, amqp: number, admin: number }
  lines: string[]
  /** SIGKILL: no drain, no flush — what a crash looks like. */
  kill(): Promise<void>
  /** SIGTERM and wait for exit; resolves with the exit code. */
  terminate(): Promise<number | null>
}

/** Start `wharf start` as a child process on free ports; resolves once it logs readiness. */
export async function startBrokerProcess (dataDir: string, env: Record<string, string> = {}, args: string[] = [], timeoutMs = 20_000): Promise<BrokerProcess> {
  const child = spawn(process.execPath, [wharfBin, 'start', ...args], {
    env: { ...process.env, WHARF_DATA_DIR: dataDir, WHARF_HOST: '127.0.0.1', WHARF_MQTT_PORT: '0', WHARF_WS_PORT: '0', WHARF_AMQP_PORT: '0', WHARF_ADMIN_PORT: '0', WHARF_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: string[] = []
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  createInterface({ input: child.stderr! }).on('line', l => lines.push(l))
  const ports = await new Promise<BrokerProcess['ports']>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`broker not ready within ${timeoutMs} ms:\n${lines.join('\n')}`)) }, timeoutMs)
    createInterface({ input: child.stdout! }).on('line', line => {
      lines.push(line)
      try {
        const entry = JSON.parse(line) as { msg?: string, ports?: BrokerProcess['ports'] }
        if (entry.msg === 'wharf ready' && entry.ports) { clearTimeout(timer); resolve(entry.ports) }
      } catch { /* not JSON: keep it in lines for the error report */ }
    })
    void exited.then(code => { clearTimeout(timer); reject(new Error(`broker exited with ${code} before ready:\n${lines.join('\n')}`)) })
  })
  return {
    child,
    ports,
    lines,
    kill: async () => { child.kill('SIGKILL'); await exited },
    terminate: async () => { child.kill('SIGTERM'); return await exited }
  }
}
