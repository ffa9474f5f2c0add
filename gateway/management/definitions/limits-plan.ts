// Per-object limits in a definitions file, where RabbitMQ puts them: a vhost's as a parameter of
// component 'vhost-limits' named 'limits' ({"max-connections": N, "max-queues": N}), a user's as the
// user's `limits` object ({"max-connections": N, "max-channels": N}). A limit Wharf does not know, or a
// value that is not an integer, is listed as unsupported; the object's other limits still import.
import type { LimitKind } from '../../../core/limits/object-limits-store.ts'
import { checkLimit } from '../../../core/limits/object-limits-store.ts'
import type { Unsupported } from './import-plan.ts'

export const vhostLimitsComponent = 'vhost-limits'

export interface LimitsStep {
  readonly kind: 'limits'
  readonly target: LimitKind
  readonly object: string
  readonly value: Readonly<Record<string, number>>
}

/** The step for an object's limits (undefined when none are set), and what of them is not taken. */
export function planLimits(target: LimitKind, object: string, value: unknown, unsupported: Unsupported[]): LimitsStep | undefined {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return undefined
  const what = `${target} limits`
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    unsupported.push({ kind: what, name: object, reason: `limits must be an object of limit names to integers, got ${JSON.stringify(value).slice(0, 80)}` })
    return undefined
  }
  const taken: Record<string, number> = {}
  for (const [name, v] of Object.entries(value)) {
    try {
      checkLimit(target, name, v)
      taken[name] = v
    } catch (err) {
      unsupported.push({ kind: what, name: `${object}: ${name}`, reason: (err as Error).message })
    }
  }
  return Object.keys(taken).length === 0 ? undefined : { kind: 'limits', target, object, value: taken }
}
