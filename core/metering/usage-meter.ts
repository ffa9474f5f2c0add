// Metering: messages and bytes (bodies) in and out per vhost, user and protocol, for billing and
// capacity. Adapters take one cell per connection once its vhost and user are known and bump it
// per message (plain field increments); the meter only reads the cells, for /api/usage, /metrics
// and the periodic usage records. Core knows no protocol: `protocol` is the adapter's label.
import type { Metrics } from '../metrics.ts'

export interface UsageCounts {
  messagesIn: number
  bytesIn: number
  messagesOut: number
  bytesOut: number
}

export interface UsageKey {
  readonly vhost: string
  /** null: an anonymous client. */
  readonly user: string | null
  readonly protocol: string
}

export type UsageRow = UsageKey & UsageCounts

/** A cell counted nowhere: what a connection holds until it has a vhost and a user. */
export function unmeteredCell(): UsageCounts {
  return { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 }
}

export class UsageMeter {
  private readonly cells = new Map<string, { key: UsageKey; counts: UsageCounts }>()

  /** The cell of a vhost, user and protocol (one per key, shared by that user's connections). */
  cell(vhost: string, user: string | null, protocol: string): UsageCounts {
    const id = `${vhost}\u0000${user ?? '\u0001'}\u0000${protocol}`
    let c = this.cells.get(id)
    if (c === undefined) {
      c = { key: { vhost, user, protocol }, counts: unmeteredCell() }
      this.cells.set(id, c)
    }
    return c.counts
  }

  /** Totals since the node started, one row per key that was ever used. */
  rows(): UsageRow[] {
    return [...this.cells.values()].map(c => ({ ...c.key, ...c.counts }))
  }

  /** wharf_usage_* counters with vhost, user ("" for anonymous) and protocol labels. */
  registerMetrics(metrics: Metrics): void {
    const family = (name: string, help: string, pick: (c: UsageCounts) => number): void => {
      metrics.counterFamily(name, help, ['vhost', 'user', 'protocol'], emit => {
        for (const c of this.cells.values()) emit({ vhost: c.key.vhost, user: c.key.user ?? '', protocol: c.key.protocol }, pick(c.counts))
      })
    }
    family('wharf_usage_messages_in_total', 'Messages published by clients, per vhost, user and protocol', c => c.messagesIn)
    family('wharf_usage_bytes_in_total', 'Body bytes published by clients, per vhost, user and protocol', c => c.bytesIn)
    family('wharf_usage_messages_out_total', 'Messages delivered to clients, per vhost, user and protocol', c => c.messagesOut)
    family('wharf_usage_bytes_out_total', 'Body bytes delivered to clients, per vhost, user and protocol', c => c.bytesOut)
  }
}
