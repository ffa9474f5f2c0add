// A token bucket on the injected clock: `ratePerSecond` tokens come back each second, at most
// `capacity` are saved up. take() may overdraw it, so a message larger than the bucket still passes
// once; the debt is how long the taker then waits. Rates over time stay exact either way.
export class TokenBucket {
  private tokens: number
  private atMs: number

  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number,
    nowMs: number
  ) {
    if (!(ratePerSecond > 0) || !(capacity > 0)) throw new Error(`token bucket: rate ${ratePerSecond}/s and capacity ${capacity} must be positive`)
    this.tokens = capacity
    this.atMs = nowMs
  }

  /** Takes `amount`, overdrawing if need be. */
  take(amount: number, nowMs: number): void {
    this.refill(nowMs)
    this.tokens -= amount
  }

  /** Takes `amount` only if the bucket holds it. */
  tryTake(amount: number, nowMs: number): boolean {
    this.refill(nowMs)
    if (this.tokens < amount) return false
    this.tokens -= amount
    return true
  }

  /** Milliseconds until the bucket is out of debt; 0 when it is not in debt. */
  waitMs(nowMs: number): number {
    this.refill(nowMs)
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.ratePerSecond)
  }

  /** True when nothing is taken from it any more: it may be forgotten. */
  full(nowMs: number): boolean {
    this.refill(nowMs)
    return this.tokens >= this.capacity
  }

  private refill(nowMs: number): void {
    const elapsedMs = nowMs - this.atMs
    if (elapsedMs <= 0) return
    this.atMs = nowMs
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.ratePerSecond) / 1000)
  }
}
