// The one place that decides whether publishers are throttled: several reasons can hold at once
// (the disk watermark, each bridge's backlog bound), and publishers are let go only when none does.
// Each source sets or clears its own reason; the adapters hear the combined one, and only on a change.
export class PublishGate {
  private readonly reasons = new Map<string, string>()
  private current: string | null = null

  /** onChange: AMQP connection.blocked and MQTT refusals, with the combined reason (null: all clear). */
  constructor(private readonly onChange: (reason: string | null) => void) {}

  /** Sets (reason) or clears (null) what `source` holds against publishers. */
  set(source: string, reason: string | null): void {
    if (reason === null) this.reasons.delete(source)
    else this.reasons.set(source, reason)
    const combined = this.reasons.size === 0 ? null : [...this.reasons.values()].join('; ')
    if (combined === this.current) return
    this.current = combined
    this.onChange(combined)
  }

  get reason(): string | null {
    return this.current
  }

  /** What each source holds against publishers now (disk, bridge <name>). */
  get holds(): ReadonlyMap<string, string> {
    return this.reasons
  }
}
