// Publish rate limits, per connection and per user (all of a user's connections together, over every
// protocol), in messages/s and payload bytes/s. As EMQX does, an over-limit publisher is throttled,
// never dropped: its reads pause until its buckets are paid back, so TCP pushes back on the client.
import type { Clock, TimerHandle } from '../clock.ts'
import { TokenBucket } from './token-bucket.ts'

export interface PublishRates {
  /** 0 = no limit. */
  readonly publishMessagesPerSecond: number
  readonly publishBytesPerSecond: number
}

/** What a throttle pauses: the reads of one connection. */
export interface Pausable {
  pause(): void
  resume(): void
}

export interface ThrottleEvent {
  readonly protocol: string
  readonly username: string | null
  /** The config field of the limit that was overdrawn. */
  readonly limit: string
  readonly waitMs: number
}

export interface PublishLimiterOptions {
  readonly perConnection: PublishRates
  readonly perUser: PublishRates
  /** A bucket holds this much of its rate: what a publisher may send at once before it waits. */
  readonly burstMs: number
  readonly clock: Clock
  /** A connection's reads were paused (count it, log it rate-limited). */
  readonly onThrottle?: (event: ThrottleEvent) => void
  /** A pause ended after pausedMs. */
  readonly onResume?: (protocol: string, pausedMs: number) => void
}

interface Limited {
  readonly bucket: TokenBucket
  readonly unit: 'messages' | 'bytes'
  readonly field: string
}
interface UserBuckets {
  readonly limited: Limited[]
  connections: number
}

export class PublishLimiter {
  private readonly users = new Map<string, UserBuckets>()
  /** Throttles holding their connection's reads now (what /api/diagnose reports). */
  readonly paused = new Set<PublishThrottle>()

  constructor(readonly options: PublishLimiterOptions) {}

  /** False when no publish limit is configured: connections need no throttle. */
  get enabled(): boolean {
    const { perConnection: c, perUser: u } = this.options
    return c.publishMessagesPerSecond + c.publishBytesPerSecond + u.publishMessagesPerSecond + u.publishBytesPerSecond > 0
  }

  /** The throttle of one connection, whose reads `target` pauses and resumes. */
  open(target: Pausable, protocol: string): PublishThrottle {
    return new PublishThrottle(this, target, protocol, this.buckets(this.options.perConnection, 'limits.perConnection'))
  }

  /** Users with a live connection. */
  get userCount(): number {
    return this.users.size
  }

  /** @internal a user's shared buckets, counted per connection that joined them. */
  joinUser(username: string): Limited[] {
    let entry = this.users.get(username)
    if (entry === undefined) {
      entry = { limited: this.buckets(this.options.perUser, 'limits.perUser'), connections: 0 }
      this.users.set(username, entry)
    }
    entry.connections++
    return entry.limited
  }

  /** @internal */
  leaveUser(username: string): void {
    const entry = this.users.get(username)
    if (entry === undefined) return
    if (--entry.connections === 0) this.users.delete(username)
  }

  private buckets(rates: PublishRates, field: string): Limited[] {
    const now = this.options.clock.nowMs()
    const out: Limited[] = []
    const make = (rate: number, unit: 'messages' | 'bytes', name: string): void => {
      if (rate <= 0) return
      // At least one message (or one byte) fits, however small the burst.
      out.push({ bucket: new TokenBucket(rate, Math.max(1, (rate * this.options.burstMs) / 1000), now), unit, field: `${field}.${name}` })
    }
    make(rates.publishMessagesPerSecond, 'messages', 'publishMessagesPerSecond')
    make(rates.publishBytesPerSecond, 'bytes', 'publishBytesPerSecond')
    return out
  }
}

export class PublishThrottle {
  /** The config field of the limit that paused it last. */
  lastLimit = ''
  private user: string | null = null
  private userBuckets: Limited[] = []
  private timer: TimerHandle | undefined
  private pausedAtMs = 0
  private closed = false

  constructor(
    private readonly limiter: PublishLimiter,
    private readonly target: Pausable,
    readonly protocol: string,
    private readonly own: Limited[]
  ) {}

  /** True while this throttle holds the connection's reads. */
  get paused(): boolean {
    return this.timer !== undefined
  }

  get username(): string | null {
    return this.user
  }

  /** Once authenticated: the connection shares its user's buckets (anonymous connections have none). */
  setUser(username: string | null): void {
    if (this.closed || username === this.user) return
    if (this.user !== null) this.limiter.leaveUser(this.user)
    this.user = username
    this.userBuckets = username === null ? [] : this.limiter.joinUser(username)
  }

  /** A publish of `bytes` payload bytes was read: reads pause while a bucket is overdrawn. */
  charge(bytes: number): void {
    if (this.closed) return
    const now = this.limiter.options.clock.nowMs()
    for (const l of this.own) l.bucket.take(l.unit === 'messages' ? 1 : bytes, now)
    for (const l of this.userBuckets) l.bucket.take(l.unit === 'messages' ? 1 : bytes, now)
    if (this.timer !== undefined) return
    const { waitMs, limit } = this.wait(now)
    if (waitMs === 0) return
    this.pausedAtMs = now
    this.lastLimit = limit
    this.limiter.paused.add(this)
    this.target.pause()
    this.timer = this.limiter.options.clock.setTimer(this.tick, waitMs)
    this.limiter.options.onThrottle?.({ protocol: this.protocol, username: this.user, limit, waitMs })
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.timer !== undefined) this.limiter.options.clock.clearTimer(this.timer)
    this.timer = undefined
    this.limiter.paused.delete(this)
    if (this.user !== null) this.limiter.leaveUser(this.user)
  }

  // The user's buckets may have been drawn on by its other connections meanwhile: wait again if so.
  private readonly tick = (): void => {
    this.timer = undefined
    if (this.closed) return
    const now = this.limiter.options.clock.nowMs()
    const { waitMs } = this.wait(now)
    if (waitMs > 0) {
      this.timer = this.limiter.options.clock.setTimer(this.tick, waitMs)
      return
    }
    this.limiter.paused.delete(this)
    this.limiter.options.onResume?.(this.protocol, now - this.pausedAtMs)
    this.target.resume()
  }

  private wait(now: number): { waitMs: number; limit: string } {
    let waitMs = 0
    let limit = ''
    for (const l of [...this.own, ...this.userBuckets]) {
      const w = l.bucket.waitMs(now)
      if (w > waitMs) {
        waitMs = w
        limit = l.field
      }
    }
    return { waitMs, limit }
  }
}
