import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ChildMessage, ParentMessage } from './worker-messages.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const STOP_GRACE_MS = 5000

/** WHARF_BENCH_PROFILE_DIR=dir writes a V8 CPU profile of every worker there (to find generator bottlenecks). */
function profileArgs(): string[] {
  const dir = process.env['WHARF_BENCH_PROFILE_DIR']
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]
}

type Waiter = { type: ChildMessage['type']; resolve: (m: ChildMessage) => void; reject: (e: Error) => void }

/** Parent side of one load-generator process (a .ts file run with `--import tsx`). */
export class WorkerProcess {
  readonly exited: Promise<void>
  private readonly child: ChildProcess
  private readonly inbox: ChildMessage[] = []
  private readonly waiters: Waiter[] = []
  private failure: Error | undefined

  constructor(
    readonly label: string,
    file: URL,
    config: unknown
  ) {
    this.child = fork(fileURLToPath(file), [JSON.stringify(config)], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx', ...profileArgs()],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    this.child.on('message', (m: ChildMessage) => this.receive(m))
    this.exited = new Promise(resolve => {
      this.child.once('exit', (code, signal) => {
        this.fail(new Error(`${label} exited with ${signal ?? `code ${code}`}`))
        resolve()
      })
    })
  }

  send(message: ParentMessage): void {
    if (this.child.connected) this.child.send(message)
  }

  /** The next message of this type; rejects if the worker reports an error or exits first. */
  next<T extends ChildMessage['type']>(type: T): Promise<Extract<ChildMessage, { type: T }>> {
    const index = this.inbox.findIndex(m => m.type === type)
    const buffered = index === -1 ? undefined : this.inbox.splice(index, 1)[0]
    if (buffered !== undefined) return Promise.resolve(buffered as Extract<ChildMessage, { type: T }>)
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiters.push({ type, resolve: m => resolve(m as Extract<ChildMessage, { type: T }>), reject })
    })
  }

  /** Asks the worker to clean up its clients and exit; kills it if it has not exited in 5 s. */
  async stop(): Promise<void> {
    this.send({ type: 'stop' })
    const timer = setTimeout(() => this.kill(), STOP_GRACE_MS)
    await this.exited
    clearTimeout(timer)
  }

  kill(reason?: Error): void {
    if (reason !== undefined) this.fail(reason)
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
  }

  private receive(message: ChildMessage): void {
    if (message.type === 'error') {
      this.fail(new Error(`${this.label}: ${message.message}`))
      return
    }
    const index = this.waiters.findIndex(w => w.type === message.type)
    const waiter = index === -1 ? undefined : this.waiters.splice(index, 1)[0]
    if (waiter === undefined) this.inbox.push(message)
    else waiter.resolve(message)
  }

  private fail(error: Error): void {
    this.failure ??= error
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure)
  }
}

/** The workers of one scenario run: killed together on abort (hard timeout) or when the run ends. */
export class WorkerGroup {
  private readonly workers: WorkerProcess[] = []
  private readonly onAbort: () => void

  constructor(private readonly signal: AbortSignal) {
    this.onAbort = () => {
      const reason = signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason))
      for (const worker of this.workers) worker.kill(reason)
    }
    signal.addEventListener('abort', this.onAbort, { once: true })
  }

  spawn(label: string, file: URL, config: unknown): WorkerProcess {
    this.signal.throwIfAborted()
    const worker = new WorkerProcess(label, file, config)
    this.workers.push(worker)
    return worker
  }

  /** Orderly end: every worker cleans up its clients (sessions included) and exits. */
  async stopAll(): Promise<void> {
    await Promise.all(this.workers.map(w => w.stop()))
  }

  /** Last resort after errors: no worker survives the scenario. */
  async dispose(): Promise<void> {
    this.signal.removeEventListener('abort', this.onAbort)
    for (const worker of this.workers) worker.kill()
    await Promise.all(this.workers.map(w => w.exited))
  }
}
