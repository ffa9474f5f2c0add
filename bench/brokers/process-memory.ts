import { readFileSync } from 'node:fs'

export interface ProcessMemory {
  readonly rssBytes: number
  /** VmHWM: the peak resident set since the process started. */
  readonly peakRssBytes: number
}

/** Reads VmRSS and VmHWM from /proc/<pid>/status (Linux); undefined when the process is not visible. */
export function readProcessMemory(pid: number): ProcessMemory | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const rssKb = statusFieldKb(status, 'VmRSS')
  const peakKb = statusFieldKb(status, 'VmHWM')
  if (rssKb === undefined || peakKb === undefined) return undefined
  return { rssBytes: rssKb * 1024, peakRssBytes: peakKb * 1024 }
}

function statusFieldKb(status: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)
  return match?.[1] === undefined ? undefined : Number(match[1])
}
