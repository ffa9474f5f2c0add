// The event loop first: the process's other threads (V8's compiler and garbage-collector helpers,
// libuv's pool, the WAL checkpointer's worker) run at a lower CPU priority. On a two-core edge box
// they compete with the event loop for the CPUs, and a packet that arrives while they hold both
// waits for a time slice. Measured in the latency scenario (bench/README.md): with them at the event
// loop's priority, the event loop was off the CPU for 1 to 4 ms in the middle of handling a PUBLISH
// about 20 times in 10 s, mostly in the first seconds of traffic, when the compiler threads are
// busiest. Lowered, they are preempted when a packet arrives, and still get every cycle the event
// loop leaves. The price, when both CPUs are busy at normal priority: the pool's jobs (scrypt at a
// login, a bridge's DNS lookup) and the compiler's run less often; 10 steps is about a ninth of a
// normal thread's share (runtime.backgroundThreadsNice). Linux only: there nice is per thread
// (setpriority takes a thread id); elsewhere, and where /proc is not mounted, nothing changes.
import { readdirSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'

/** The highest nice value (the lowest priority) Linux has. */
const NICE_MAX = 19

export interface LoweredThreads {
  /** The nice value the other threads now have. */
  readonly nice: number
  /** How many threads were lowered. */
  readonly threads: number
}

/**
 * Lowers every thread of this process but the event loop's by `increment` nice steps below the event
 * loop's own (at most to 19). Threads started later inherit the event loop's priority, so call this
 * once the process has started its threads. Returns null when there is nothing to do (increment 0,
 * or not Linux).
 */
export function lowerBackgroundThreads(increment: number, taskDir = '/proc/self/task'): LoweredThreads | null {
  if (!Number.isInteger(increment) || increment < 0 || increment > NICE_MAX) {
    throw new Error(`lower background threads: the increment must be an integer 0-${NICE_MAX}, got ${increment}`)
  }
  if (increment === 0 || process.platform !== 'linux') return null
  let tids: string[]
  try {
    tids = readdirSync(taskDir)
  } catch {
    return null // no /proc: the priorities stay as they are
  }
  const eventLoop = process.pid // the main thread's id is the process id
  const nice = Math.min(NICE_MAX, getPriority(eventLoop) + increment)
  let threads = 0
  for (const name of tids) {
    const tid = Number(name)
    if (!Number.isInteger(tid) || tid === eventLoop) continue
    try {
      setPriority(tid, nice)
      threads++
    } catch (err) {
      // A thread that ended between the listing and now; raising one's own nice needs no privilege.
      if ((err as { info?: { code?: string } }).info?.code === 'ESRCH') continue
      throw new Error(`lower background threads: thread ${tid} to nice ${nice}: ${(err as Error).message}`)
    }
  }
  return { nice, threads }
}
