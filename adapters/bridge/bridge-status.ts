// What a bridge reports (/api/bridges, /metrics, its status log line), and the rates in it: counts
// sampled every second, a rate being the last sample's difference.
export type BridgeState = 'connecting' | 'connected' | 'backing-off' | 'error' | 'stopped'

export interface BridgeStatus {
  name: string
  /** The remote URL without its password. */
  url: string
  remote: 'amqp' | 'mqtt'
  state: BridgeState
  lastError: string | null
  lastErrorAtMs: number | null
  connectedSinceMs: number | null
  /** The remote Wharf's node id, when the remote is a Wharf. */
  remoteNodeId: string | null
  /** What goes up differently because of the connected remote's limits (its Maximum QoS, Retain Available). */
  remoteLimits: readonly string[]
  /** Remote topics the remote refuses by permission: their messages are dead-lettered until reconnectMaxMs has passed. */
  refusedTopics: readonly string[]
  /** The `in` topics the connected remote refused (SUBACK, queue.bind), one line each with the reason. */
  inRefused: readonly string[]
  /** The core queue holding the backlog, in vhost (the bridge's own, or mqtt.vhost). */
  queue: string
  vhost: string
  backlog: {
    messages: number
    bytes: number
    inflightMessages: number
    /** The link's window (sent, not yet confirmed, at most); 0 while the link is down. */
    windowMax: number
    oldestMessageAgeMs: number | null
    bytesMax: number
    policy: 'block' | 'drop-oldest'
    /** block: publishers are throttled now. */
    blockingPublishers: boolean
  }
  forwarded: number
  confirmed: number
  redelivered: number
  loopsSkipped: number
  /** Refused by the remote for good, now in deadLetterQueue. */
  deadLettered: number
  deadLetterQueue: string
  dropped: number
  downlinked: number
  /** Why the downlink takes nothing from the remote now (the disk watermark), or null. */
  downlinkPausedBy: string | null
  echoesDropped: number
  downlinkRefused: number
  /** Confirmed by the remote and routed to no one there (no queue bound, no subscriber): dropped at the remote. */
  unroutedAtRemote: number
  reconnects: number
  forwardedPerSecond: number
  confirmedPerSecond: number
  downlinkedPerSecond: number
}

/** Rates over the last sampling interval. */
export class RateSampler {
  private last: { atMs: number; counts: number[] } | null = null
  rates: number[] = []

  sample(nowMs: number, counts: readonly number[]): void {
    const last = this.last
    if (last !== null && nowMs > last.atMs) {
      const seconds = (nowMs - last.atMs) / 1000
      this.rates = counts.map((c, i) => Math.round(((c - (last.counts[i] ?? 0)) / seconds) * 10) / 10)
    }
    this.last = { atMs: nowMs, counts: [...counts] }
  }
}
