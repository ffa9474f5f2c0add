import { readdirSync, readFileSync } from 'node:fs'

/** A process as /proc shows it; the start time tells a process from a later one that reuses its id. */
export interface ProcessEntry {
  readonly pid: number
  readonly parentPid: number
  readonly command: string
  readonly startTicks: number
}

/** /proc/<pid>/stat: "pid (comm) state ppid ... starttime(22nd field)"; comm may hold spaces and parentheses. */
export function readProcess(pid: number): ProcessEntry | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  const open = stat.indexOf('(')
  const close = stat.lastIndexOf(')')
  const fields = stat.slice(close + 2).split(' ')
  const parentPid = Number(fields[1])
  const startTicks = Number(fields[19])
  if (open === -1 || close === -1 || !Number.isFinite(parentPid) || !Number.isFinite(startTicks)) return undefined
  return { pid, parentPid, command: stat.slice(open + 1, close), startTicks }
}

/** Every descendant of `rootPid` alive now (Linux /proc), children before grandchildren. */
export function descendants(rootPid: number): ProcessEntry[] {
  let names: string[]
  try {
    names = readdirSync('/proc')
  } catch {
    return []
  }
  const all = names.filter(n => /^\d+$/.test(n)).flatMap(n => readProcess(Number(n)) ?? [])
  const found: ProcessEntry[] = []
  let frontier = new Set([rootPid])
  while (frontier.size > 0) {
    const next = all.filter(p => frontier.has(p.parentPid))
    found.push(...next)
    frontier = new Set(next.map(p => p.pid))
  }
  return found
}

/** SIGKILL to each process that is still the one recorded (same id and start time). */
export function killIfSame(processes: readonly ProcessEntry[]): void {
  for (const p of processes) {
    if (readProcess(p.pid)?.startTicks !== p.startTicks) continue
    try {
      process.kill(p.pid, 'SIGKILL')
    } catch {
      // exited in between
    }
  }
}

/** The Erlang VM (beam.smp) a rabbitmq-server script started: the process that does RabbitMQ's work. */
export function erlangVmPid(scriptPid: number | undefined): number | undefined {
  return scriptPid === undefined ? undefined : descendants(scriptPid).find(p => p.command.startsWith('beam'))?.pid
}
