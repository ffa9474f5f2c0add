// The limits against abuse that MQTT and AMQP share: publish rates (per connection, per user) and
// connections per user and per vhost. Built once by the gateway and handed to both adapters, so a
// user's connections count together whatever protocol they speak. Every throttle and refusal is
// counted in /metrics and logged at most once per interval.
import type { Clock } from '../clock.ts'
import type { Logger } from '../logger.ts'
import type { Counter, Metrics } from '../metrics.ts'
import { RateLimitedLog } from '../rate-limited-log.ts'
import { ConnectionLimits, type Admission } from './connection-limits.ts'
import { PublishLimiter, type PublishRates } from './publish-limiter.ts'
import { ChannelLimits } from './channel-limits.ts'
import type { ObjectLimitsStore } from './object-limits-store.ts'

/** The shape of config `limits` this needs (edge-config's LimitsConfig). */
export interface AbuseLimitsOptions {
  readonly perConnection: PublishRates
  readonly perUser: PublishRates & { readonly connectionsMax: number }
  readonly perVhost: { readonly connectionsMax: number }
  readonly publishBurstMs: number
}

export class AbuseLimits {
  readonly publish: PublishLimiter
  readonly connections: ConnectionLimits
  readonly channels: ChannelLimits
  private readonly warn: RateLimitedLog
  private readonly counters = new Map<string, Counter>()

  constructor(
    options: AbuseLimitsOptions,
    clock: Clock,
    private readonly metrics: Metrics,
    log: Logger,
    warnIntervalMs: number,
    /** Limits set per vhost and per user at runtime; the stricter of one and the global default applies. */
    objectLimits?: ObjectLimitsStore
  ) {
    this.warn = new RateLimitedLog(log, warnIntervalMs, clock)
    this.publish = new PublishLimiter({
      perConnection: options.perConnection,
      perUser: options.perUser,
      burstMs: options.publishBurstMs,
      clock,
      onThrottle: e => {
        this.counter('wharf_publish_throttled_total', "Times a publisher's reads were paused for a publish rate limit", { protocol: e.protocol }).inc()
        this.warn.warn('publisher throttled: reads paused', { protocol: e.protocol, username: e.username, limit: e.limit, waitMs: e.waitMs })
      },
      onResume: (protocol, pausedMs) => {
        this.counter('wharf_publish_throttled_seconds_total', "Time publishers' reads were paused for publish rate limits", { protocol }).inc(pausedMs / 1000)
      }
    })
    this.connections = new ConnectionLimits({
      userConnectionsMax: options.perUser.connectionsMax,
      vhostConnectionsMax: options.perVhost.connectionsMax,
      userLimit: username => objectLimits?.userLimit(username, 'max-connections'),
      vhostLimit: vhost => objectLimits?.vhostLimit(vhost, 'max-connections')
    })
    this.channels = new ChannelLimits(username => objectLimits?.userLimit(username, 'max-channels'))
    metrics.gauge('wharf_publish_rate_limited_users', 'Users with a connection under a per-user publish rate limit', () => this.publish.userCount)
  }

  /** Counts an authenticated connection against the user and vhost limits; a refusal is counted and logged. */
  admit(protocol: string, username: string | null, vhost: string): Admission {
    const admission = this.connections.acquire(username, vhost)
    if (!admission.ok) {
      this.counter(
        'wharf_connections_limit_refused_total',
        'Connections refused at limits.perUser.connectionsMax, limits.perVhost.connectionsMax or a max-connections set on the user or vhost',
        {
          protocol,
          limit: admission.limit
        }
      ).inc()
      this.warn.warn('connection refused: connection limit reached', { protocol, username, vhost, reason: admission.reason })
    }
    return admission
  }

  /** Counts an AMQP channel against the user's max-channels; a refusal is counted and logged. */
  admitChannel(username: string): Admission {
    const admission = this.channels.acquire(username)
    if (!admission.ok) {
      this.counter('wharf_channels_limit_refused_total', "Channels refused at a user's max-channels limit", { protocol: 'amqp' }).inc()
      this.warn.warn('channel refused: user channel limit reached', { username, reason: admission.reason })
    }
    return admission
  }

  private counter(name: string, help: string, labels: Record<string, string>): Counter {
    const key = `${name}${JSON.stringify(labels)}`
    let c = this.counters.get(key)
    if (c === undefined) {
      c = this.metrics.counter(name, help, labels)
      this.counters.set(key, c)
    }
    return c
  }
}
