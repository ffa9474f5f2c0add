// Exponential backoff with full jitter (delay = random() * min(maxMs, initialMs * 2^(failures-1))), so
// many nodes retrying one object store spread out instead of arriving together. Clock and random are
// injected: tests decide both and never sleep.
import type { Clock } from '../clock.ts'

export interface RetryBackoffOptions {
  readonly initialMs: number
  readonly maxMs: number
  readonly clock: Clock
  /** [0, 1); Math.random when not given. */
  readonly random?: () => number
}

export class RetryBackoff {
  private failureCount = 0
  private nextAtMs: number | null = null
  private readonly random: () => number

  constructor(private readonly opts: RetryBackoffOptions) {
    if (!(opts.initialMs > 0)) throw new Error(`retry backoff: initialMs must be > 0, got ${opts.initialMs}`)
    if (!(opts.maxMs >= opts.initialMs)) throw new Error(`retry backoff: maxMs (${opts.maxMs}) must be >= initialMs (${opts.initialMs})`)
    this.random = opts.random ?? Math.random
  }

  /** Failures since the last success. */
  get failures(): number {
    return this.failureCount
  }

  /** When the next attempt may run (ms since epoch), or null when no failure is pending. */
  get nextAttemptAtMs(): number | null {
    return this.nextAtMs
  }

  /** True when no backoff is pending or its delay has passed. */
  canAttempt(): boolean {
    return this.nextAtMs === null || this.opts.clock.nowMs() >= this.nextAtMs
  }

  /** Records a failure and returns the delay (ms) before the next attempt. */
  recordFailure(): number {
    this.failureCount++
    const delayMs = Math.floor(this.random() * this.ceilingMs())
    this.nextAtMs = this.opts.clock.nowMs() + delayMs
    return delayMs
  }

  /** A success resets the backoff: the next failure starts again from initialMs. */
  recordSuccess(): void {
    this.failureCount = 0
    this.nextAtMs = null
  }

  /** Upper bound of the current delay: initialMs doubled per failure after the first, capped at maxMs. */
  ceilingMs(): number {
    const doublings = Math.max(0, this.failureCount - 1)
    // 2^doublings overflows to Infinity for large counts; Math.min caps it at maxMs either way.
    return Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** Math.min(doublings, 1024))
  }
}
