import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin']

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * `$<envVar>` if set (and then only that), else the first of `candidates`, else `name` on PATH
 * or in the sbin directories (which a non-login root shell may lack).
 */
export function findExecutable(name: string, envVar: string, candidates: readonly string[] = []): string | undefined {
  const explicit = process.env[envVar]
  if (explicit !== undefined && explicit !== '') return isExecutable(explicit) ? explicit : undefined
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(d => d !== ''), ...SBIN_DIRS]
  return [...candidates, ...dirs.map(dir => join(dir, name))].find(isExecutable)
}
