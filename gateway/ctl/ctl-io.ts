// What a `wharf ctl` command works with: the admin API client, its options, output, and errors with
// exit codes (0 done; 1 the broker refused or failed the request; 2 a usage error; 3 the broker could
// not be reached).
import type { Writable } from 'node:stream'
import type { AdminClient } from './admin-client.ts'

export const exitRefused = 1
export const exitUsage = 2
export const exitUnreachable = 3

export class CtlError extends Error {
  constructor(
    readonly exitCode: number,
    message: string
  ) {
    super(message)
  }
}

export const usageError = (message: string): CtlError => new CtlError(exitUsage, message)

export interface CtlIo {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown }
  readonly stdout: Writable
  readonly stderr: Writable
}

export interface CtlContext {
  readonly client: AdminClient
  /** Positional arguments after the command name. */
  readonly args: readonly string[]
  /** --name value / --flag options after the command name. */
  readonly options: ReadonlyMap<string, string | true>
  readonly json: boolean
  readonly vhost: string
  readonly io: CtlIo
}

export type CtlCommand = (ctx: CtlContext) => Promise<void>

/** A string option, or the fallback; a bare --name is a usage error. */
export function option(ctx: CtlContext, name: string, fallback?: string): string | undefined {
  const v = ctx.options.get(name)
  if (v === true) throw usageError(`--${name} needs a value`)
  return v ?? fallback
}

export function flag(ctx: CtlContext, name: string): boolean {
  return ctx.options.get(name) === true
}

export function positional(ctx: CtlContext, count: number, usage: string): string[] {
  if (ctx.args.length !== count) throw usageError(`expected ${usage}`)
  return [...ctx.args]
}

/** Prints the JSON (--json) or one line for people. */
export function done(ctx: CtlContext, line: string, json: unknown): void {
  ctx.io.stdout.write(ctx.json ? JSON.stringify(json) + '\n' : line + '\n')
}
