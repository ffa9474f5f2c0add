import type { Arguments } from './message.ts'
import type { Exchange } from './exchange.ts'
import type { Queue } from './queue.ts'
import type { MessageSink } from './message-sink.ts'

/** Where a binding leads: a queue, another exchange (exchange-to-exchange bindings), or a sink. */
export type Destination = Queue | Exchange | MessageSink

export interface Binding {
  readonly source: Exchange
  readonly destination: Destination
  readonly routingKey: string
  readonly arguments: Arguments
  /** Identity within the source: the same destination, key and arguments is the same binding. */
  readonly id: string
  /** Stored when both ends are durable. */
  readonly durable: boolean
}

export function bindingId(destination: Destination, routingKey: string, args: Arguments): string {
  return JSON.stringify([destination.kind, destination.name, routingKey, canonicalArguments(args)])
}

/** Arguments with keys sorted, so equal tables give equal ids and equal stored rows. */
export function canonicalArguments(args: Arguments): unknown {
  return sortKeys(args)
}

function sortKeys(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { buffer: value.toString('base64') }
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key])
    return out
  }
  return value
}
