import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

const OUTPUT_TAIL_CHARS = 4000

/** A spawned broker process that remembers the tail of its output for error messages. */
export class BrokerProcess {
  readonly child: ChildProcess
  readonly exited: Promise<void>
  private outputTail = ''
  private exitDescription: string | undefined

  constructor(
    readonly label: string,
    command: string,
    args: readonly string[],
    options: SpawnOptions
  ) {
    this.child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    const keep = (chunk: Buffer): void => {
      this.outputTail = (this.outputTail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS)
    }
    this.child.stdout?.on('data', keep)
    this.child.stderr?.on('data', keep)
    this.exited = new Promise(resolve => {
      this.child.once('error', err => {
        this.exitDescription = `could not start: ${err.message}`
        resolve()
      })
      this.child.once('exit', (code, signal) => {
        this.exitDescription = `exited with ${signal ?? `code ${code}`}`
        resolve()
      })
    })
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  /** The last OUTPUT_TAIL_CHARS characters the process wrote to stdout and stderr. */
  get output(): string {
    return this.outputTail
  }

  get hasExited(): boolean {
    return this.exitDescription !== undefined
  }

  /** An error naming the process, how it ended and what it last printed. */
  failure(what: string): Error {
    const state = this.exitDescription ?? 'still running'
    const output = this.outputTail.trim()
    return new Error(`${this.label}: ${what} (${state})${output === '' ? '' : `; output:\n${output}`}`)
  }

  /** SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.hasExited) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }

  /** Polls `probe` until it returns true; fails early if the process exits. */
  async waitUntil(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (this.hasExited) throw this.failure(`exited while waiting for ${what}`)
      if (await probe()) return
      await sleep(50)
    }
    throw this.failure(`not ready: ${what} within ${timeoutMs} ms`)
  }
}

export function tcpPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise(resolve => {
    const socket = connect({ port, host })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export async function httpStatusIs(url: string, status: number): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
    await response.arrayBuffer()
    return response.status === status
  } catch {
    return false
  }
}
