// Remote topics the remote refused in a way that costs the link, remembered for reconnectMaxMs (the
// longest the bridge waits before it tries a remote again), then tried again in case the permission
// was granted meanwhile. An AMQP topic permission refusing a routing key closes the channel, so each
// message sent there costs the link and the window sent before it comes again (counted duplicates):
// messages to such a topic are dead-lettered unsent meanwhile. RabbitMQ's MQTT plugin (before 3.13)
// closes the connection at the SUBSCRIBE of an `in` topic it refuses: that topic is not asked for.
import type { Clock } from '../../core/clock.ts'

export class RefusedTopics {
  private readonly refused = new Map<string, { readonly reason: string; readonly untilMs: number }>()

  constructor(
    private readonly rememberMs: number,
    private readonly clock: Clock
  ) {}

  /** Remembers a refusal; true when the topic was not refused already (worth a log line). */
  add(topic: string, reason: string): boolean {
    const known = this.reason(topic) !== null
    this.refused.set(topic, { reason, untilMs: this.clock.nowMs() + this.rememberMs })
    return !known
  }

  /** Why messages to topic are refused now, or null. */
  reason(topic: string): string | null {
    const r = this.refused.get(topic)
    if (r === undefined) return null
    if (r.untilMs > this.clock.nowMs()) return r.reason
    this.refused.delete(topic)
    return null
  }

  /** The topics refused now (for /api/bridges). */
  topics(): string[] {
    return [...this.refused.keys()].filter(t => this.reason(t) !== null)
  }
}
