// The one place that decides whether publishers are throttled: several reasons can hold at once
// (the disk watermark, each bridge's backlog bound), and publishers are let go only when none does.
// A reason holds for every vhost (the disk is the node's) or for one (a bridge works in one vhost,
// and throttling the others would not shrink its backlog). Each source sets or clears its own
// reason; the adapters hear of a change and ask what holds for the vhost of each publisher.
import type { Logger } from '../core/logger.ts'
import type { PublishHold } from '../core/limits/publish-hold.ts'

interface Held {
  readonly reason: string
  /** null: every vhost. */
  readonly vhost: string | null
}

export class PublishGate {
  private readonly reasons = new Map<string, Held>()
  /** The combined reason of each held scope (null key: every vhost), as the adapters were last told. */
  private scopes = new Map<string | null, string>()

  /** onChange: AMQP connection.blocked and MQTT refusals are asked again (reasonFor) on any change. */
  constructor(
    private readonly onChange: (reasonFor: PublishHold) => void,
    private readonly log: Logger | null = null
  ) {}

  /** What holds publishers of this vhost back now, or null. */
  readonly reasonFor: PublishHold = vhost => (this.scopes.size === 0 ? null : (this.scopes.get(vhost) ?? this.scopes.get(null) ?? null))

  /** Sets (reason) or clears (null) what `source` holds against publishers of `vhost` (null: of every vhost). */
  set(source: string, reason: string | null, vhost: string | null = null): void {
    if (reason === null) this.reasons.delete(source)
    else this.reasons.set(source, { reason, vhost })
    const now = this.combine()
    if (sameEntries(now, this.scopes)) return
    for (const scope of new Set([...this.scopes.keys(), ...now.keys()])) {
      const after = now.get(scope)
      if (after === this.scopes.get(scope)) continue
      const where = scope ?? '(every vhost)'
      if (after !== undefined) this.log?.warn('publishers blocked', { vhost: where, reason: after })
      else this.log?.info('publishing accepted again', { vhost: where })
    }
    this.scopes = now
    this.onChange(this.reasonFor)
  }

  /** Each held scope's reasons joined: every vhost's first, a vhost's own after them. */
  private combine(): Map<string | null, string> {
    const every = [...this.reasons.values()].filter(h => h.vhost === null).map(h => h.reason)
    const lists = new Map<string | null, string[]>()
    if (every.length > 0) lists.set(null, every)
    for (const h of this.reasons.values()) {
      if (h.vhost === null) continue
      const list = lists.get(h.vhost) ?? [...every]
      list.push(h.reason)
      lists.set(h.vhost, list)
    }
    return new Map([...lists].map(([scope, list]) => [scope, list.join('; ')]))
  }
}

function sameEntries<K, V>(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) if (b.get(k) !== v) return false
  return true
}
