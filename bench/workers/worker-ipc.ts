import type { ChildMessage, ParentMessage } from './worker-messages.ts'

/** Child side of the worker protocol: config from argv, messages over the IPC channel. */

export function readWorkerConfig<T>(): T {
  const raw = process.argv[2]
  if (raw === undefined) throw new Error('worker: missing JSON config argument')
  return JSON.parse(raw) as T
}

export function sendToParent(message: ChildMessage): Promise<void> {
  return new Promise(resolve => {
    if (process.send === undefined) throw new Error('worker: not started with an IPC channel')
    process.send(message, undefined, {}, () => resolve())
  })
}

const inbox: ParentMessage[] = []
const waiters: Array<{ type: ParentMessage['type']; resolve: (m: ParentMessage) => void }> = []

process.on('message', (message: ParentMessage) => {
  const index = waiters.findIndex(w => w.type === message.type)
  const waiter = index === -1 ? undefined : waiters.splice(index, 1)[0]
  if (waiter === undefined) inbox.push(message)
  else waiter.resolve(message)
})

/** The next message of this type from the parent (buffered if it already came). */
export function nextParentMessage<T extends ParentMessage['type']>(type: T): Promise<Extract<ParentMessage, { type: T }>> {
  const index = inbox.findIndex(m => m.type === type)
  const buffered = index === -1 ? undefined : inbox.splice(index, 1)[0]
  if (buffered !== undefined) return Promise.resolve(buffered as Extract<ParentMessage, { type: T }>)
  return new Promise(resolve => {
    waiters.push({ type, resolve: m => resolve(m as Extract<ParentMessage, { type: T }>) })
  })
}

/**
 * Runs a worker body with the safety nets every worker needs: it exits if the parent goes
 * away, reports an error instead of dying silently, and cannot outlive its hard timeout.
 */
export function runWorker(hardTimeoutMs: number, body: () => Promise<void>): void {
  process.on('disconnect', () => process.exit(2))
  const timer = setTimeout(() => {
    void sendToParent({ type: 'error', message: `worker hard timeout after ${hardTimeoutMs} ms` }).finally(() => process.exit(3))
  }, hardTimeoutMs)
  timer.unref()
  body().then(
    () => {
      process.exit(0)
    },
    (err: unknown) => {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
      void sendToParent({ type: 'error', message }).finally(() => process.exit(1))
    }
  )
}
