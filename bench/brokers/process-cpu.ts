import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux). */
const TICKS_PER_S = 100

/**
 * CPU time (user + system) the process has used so far, in ms, from /proc/<pid>/stat (Linux);
 * undefined when the process is not visible. The difference over a phase is the broker's own
 * cost of it, whatever else the machine's cores were doing.
 */
export function readProcessCpuMs(pid: number): number | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1000) / TICKS_PER_S : undefined
}

/**
 * Starts counting a process's CPU time: the returned function gives the ms it used since, or
 * undefined when the process was or is not visible.
 */
export function cpuSince(pid: number | undefined): () => number | undefined {
  const start = pid === undefined ? undefined : readProcessCpuMs(pid)
  return () => {
    const now = pid === undefined || start === undefined ? undefined : readProcessCpuMs(pid)
    return now === undefined || start === undefined ? undefined : now - start
  }
}

/** `work` and the CPU time the process spent meanwhile (undefined where /proc is not readable). */
export async function withProcessCpu<T>(pid: number | undefined, work: () => Promise<T>): Promise<{ result: T; cpuMs: number | undefined }> {
  const elapsed = cpuSince(pid)
  const result = await work()
  return { result, cpuMs: elapsed() }
}
