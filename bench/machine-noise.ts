// How much the machine itself delays a waiting thread: the floor under any latency figure taken on
// it. On a virtual machine the host may not run a vCPU when it is due (CPU steal), and a thread
// woken by a timer then starts late whatever program it is. The latency scenario reports both
// beside its percentiles, so that a p99 is read against what the machine allows that day.
import { readFileSync } from 'node:fs'
import { summarizeLatencies } from './workers/percentiles.ts'

/** The aggregate `cpu` line of /proc/stat: time stolen by the host and all time, in clock ticks. */
export interface CpuTicks {
  readonly steal: number
  readonly total: number
}

/** Parses the first line of /proc/stat ("cpu  user nice system idle iowait irq softirq steal ..."). */
export function parseCpuTicks(procStat: string): CpuTicks | undefined {
  const line = procStat.split('\n', 1)[0] ?? ''
  const fields = line.trim().split(/\s+/)
  if (fields[0] !== 'cpu' || fields.length < 9) return undefined
  const ticks = fields.slice(1).map(Number)
  if (ticks.some(n => !Number.isFinite(n))) return undefined
  // guest and guest_nice (fields 9 and 10) are already counted in user and nice.
  const total = ticks.slice(0, 8).reduce((sum, n) => sum + n, 0)
  return { steal: ticks[7] ?? 0, total }
}

/** The machine's CPU ticks now; undefined where /proc/stat is not there (not Linux). */
export function readCpuTicks(): CpuTicks | undefined {
  try {
    return parseCpuTicks(readFileSync('/proc/stat', 'utf8'))
  } catch {
    return undefined
  }
}

/** Share of all CPU time between the two readings that the host took away, in percent. */
export function stealPercent(before: CpuTicks, after: CpuTicks): number {
  const total = after.total - before.total
  return total <= 0 ? 0 : (Math.max(0, after.steal - before.steal) / total) * 100
}

export interface WakeupLateness {
  readonly samples: number
  /** How much later than asked a timed wait returned, in ms. */
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** Share of the waits that returned over 1 ms late, in percent. */
  readonly overOneMsPercent: number
}

/**
 * Sleeps `intervalMs` at a time for `durationMs` (Atomics.wait: a futex wait with a timeout, with no
 * event loop in between) and measures how late each wait returns, as cyclictest does. It blocks the
 * calling thread for `durationMs`: run it when nothing else of the caller's needs to run.
 */
export function probeWakeupLateness(durationMs: number, intervalMs = 1): WakeupLateness {
  const cell = new Int32Array(new SharedArrayBuffer(4))
  const lateness: number[] = []
  const endMs = performance.now() + durationMs
  for (let now = performance.now(); now < endMs; ) {
    Atomics.wait(cell, 0, 0, intervalMs)
    const woke = performance.now()
    lateness.push(Math.max(0, woke - now - intervalMs))
    now = woke
  }
  const summary = summarizeLatencies(Float64Array.from(lateness))
  const late = lateness.filter(ms => ms > 1).length
  return {
    samples: lateness.length,
    p50Ms: summary.p50,
    p99Ms: summary.p99,
    maxMs: summary.max,
    overOneMsPercent: lateness.length === 0 ? 0 : (late / lateness.length) * 100
  }
}
