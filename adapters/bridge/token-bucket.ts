// The uplink rate cap (uplinkMessagesPerSecondMax): a token bucket on the injected clock, holding at
// most a tenth of a second's worth of tokens (at least one), so a cap is kept over short spans too.
import type { Clock } from '../../core/clock.ts'

export class TokenBucket {
  private tokens: number
  private lastMs: number
  private readonly capacity: number

  constructor(
    private readonly perSecond: number,
    private readonly clock: Clock
  ) {
    if (!(perSecond > 0)) throw new Error(`token bucket: perSecond must be > 0, got ${perSecond}`)
    this.capacity = Math.max(1, perSecond / 10)
    this.tokens = this.capacity
    this.lastMs = clock.nowMs()
  }

  /** Whether one token is there now (nothing taken). */
  available(): boolean {
    this.refill()
    return this.tokens >= 1
  }

  /** Takes one token; false when there is none. */
  take(): boolean {
    this.refill()
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }

  /** How long until a token is there, in ms (0 when there is one). */
  msUntilToken(): number {
    this.refill()
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.perSecond)
  }

  private refill(): void {
    const now = this.clock.nowMs()
    if (now > this.lastMs) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.lastMs) * this.perSecond) / 1000)
      this.lastMs = now
    }
  }
}
