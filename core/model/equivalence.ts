// Declaring an existing exchange or queue again must ask for the same thing; otherwise the
// declare fails with precondition-failed naming the first difference, as RabbitMQ words it.
import { isDeepStrictEqual } from 'node:util'
import { preconditionFailed } from '../errors.ts'
import type { Arguments } from './message.ts'
import { describe } from './queue-arguments.ts'

export interface Difference {
  readonly name: string
  readonly received: unknown
  readonly current: unknown
}

export function firstDifference(
  received: Readonly<Record<string, unknown>>,
  current: Readonly<Record<string, unknown>>,
  receivedArgs: Arguments,
  currentArgs: Arguments,
  argNames: readonly string[] | 'all'
): Difference | undefined {
  for (const name of Object.keys(received)) {
    if (received[name] !== current[name]) return { name, received: received[name], current: current[name] }
  }
  const names = argNames === 'all' ? [...new Set([...Object.keys(receivedArgs), ...Object.keys(currentArgs)])] : argNames
  for (const name of names) {
    const r = receivedArgs[name]
    const c = currentArgs[name]
    if (!isDeepStrictEqual(r, c)) return { name, received: r, current: c }
  }
  return undefined
}

export function assertEquivalent(what: string, diff: Difference | undefined): void {
  if (diff === undefined) return
  throw preconditionFailed(`inequivalent arg '${diff.name}' for ${what}: received ${describe(diff.received)} but current is ${describe(diff.current)}`)
}
