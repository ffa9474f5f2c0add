// A message's extra routing keys (message.ts ExtraRoutingKeys) as the messages.extra_routing_keys
// column holds them (migration 13): JSON {"shown": [...], "hidden": [...]}, NULL when there are none.
import type { ExtraRoutingKeys } from '../message.ts'

export function encodeExtraRoutingKeys(keys: ExtraRoutingKeys | null): string | null {
  return keys === null ? null : JSON.stringify({ shown: keys.shown, hidden: keys.hidden })
}

export function decodeExtraRoutingKeys(json: string | null): ExtraRoutingKeys | null {
  if (json === null) return null
  const value = JSON.parse(json) as { shown?: unknown; hidden?: unknown }
  if (!isKeyList(value.shown) || !isKeyList(value.hidden)) {
    throw new Error(`model store: read of a message's extra routing keys: not {"shown": [...], "hidden": [...]} of strings: ${json}`)
  }
  return { shown: value.shown, hidden: value.hidden }
}

function isKeyList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every(k => typeof k === 'string')
}
