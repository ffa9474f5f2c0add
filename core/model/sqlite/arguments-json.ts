// Field-table arguments as JSON for the definition tables: keys sorted (so one binding is one row),
// Buffers kept as { type: 'Buffer', data } and revived, typed values ({ '!': 'timestamp', ... }) as is.
import type { Arguments } from '../message.ts'

export function encodeArguments(args: Arguments): string {
  return JSON.stringify(sorted(args))
}

export function decodeArguments(json: string): Arguments {
  return JSON.parse(json, revive) as Arguments
}

function sorted(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(sorted)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key]
    if (v !== undefined) out[key] = sorted(v)
  }
  return out
}

function revive(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object') {
    const v = value as { type?: unknown; data?: unknown }
    if (v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data as number[])
  }
  return value
}
