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
  /** The combined reason of every vhost scope (null key: every vhost), as last told. */
  private told = new Map<string | null, string>()
  private everyVhost: string | null = null
  private byVhost = new Map<string, string>()

  /** onChange: AMQP connection.blocked and MQTT refusals are asked again (reasonFor) on any change. */
  constructor(
    private readonly onChange: (reasonFor: PublishHold) => void,
    private readonly log: Logger | null = null
  ) {}

  /** What holds publishers of this vhost back now, or null. */
  readonly reasonFor: PublishHold = vhost => this.byVhost.get(vhost) ?? this.everyVhost

  /** Sets (reason) or clears (null) what `source` holds against publishers of `vhost` (null: of every vhost). */
  set(source: string, reason: string | null, vhost: string | null = null): void {
    if (reason === null) this.reasons.delete(source)
    else this.reasons.set(source, { reason, vhost })
    this.combine()
    const now = new Map<string | null, string>()
    if (this.everyVhost !== null) now.set(null, this.everyVhost)
    for (const [v, r] of this.byVhost) now.set(v, r)
    if (sameEntries(now, this.told)) return
    for (const scope of new Set([...this.told.keys(), ...now.keys()])) {
      const before = this.told.get(scope)
      const after = now.get(scope)
      if (before === after) continue
      const vhost = scope ?? '(every vhost)'
      if (after !== undefined) this.log?.warn('publishers blocked', { vhost, reason: after })
      else this.log?.info('publishing accepted again', { vhost })
    }
    this.told = now
    this.onChange(this.reasonFor)
  }

  /** What each source holds against publishers now (disk, bridge <name>), and for which vhost (null: all). */
  get holds(): ReadonlyMap<string, Held> {
    return this.reasons
  }

  private combine(): void {
    const every = [...this.reasons.values()].filter(h => h.vhost === null).map(h => h.reason)
    this.everyVhost = every.length === 0 ? null : every.join('; ')
    const byVhost = new Map<string, string[]>()
    for (const h of this.reasons.values()) {
      if (h.vhost === null) continue
      const list = byVhost.get(h.vhost) ?? [...every]
      list.push(h.reason)
      byVhost.set(h.vhost, list)
    }
    this.byVhost = new Map([...byVhost].map(([v, list]) => [v, list.join('; ')]))
  }
}

function sameEntries<K, V>(a: ReadonlyMap<K, V>, b: ReadonlyMap<K, V>): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) if (b.get(k) !== v) return false
  return true
}
