// The two timers a queue can have: TTL expiry of its head (one timer per queue, at the earliest
// deadline asked for) and x-expires (the queue goes when unused that long: no consumers, no
// basic.get, no redeclare). Both run on the injected Clock, so tests move time by hand.
import type { Queue } from './queue.ts'
import type { Clock, TimerHandle } from '../clock.ts'

/**
 * Node's timers hold at most 2^31-1 ms (24.8 days) and fire after 1 ms when asked for more: a message
 * TTL or x-expires that long re-armed a 1 ms timer at each firing, for as long as it waited. A timer
 * is set for at most this; both callbacks look at the time and re-arm for what is left.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1
const timerDelayMs = (ms: number): number => Math.min(Math.max(0, ms), MAX_TIMER_DELAY_MS)

export class QueueTimers {
  private readonly expiry = new Map<Queue, { atMs: number; handle: TimerHandle }>()
  private readonly unused = new Map<Queue, TimerHandle>()
  private readonly lastUsedMs = new Map<Queue, number>()

  constructor(
    private readonly clock: Clock,
    /** Expire the queue's head and dispatch. */
    private readonly onExpiry: (q: Queue) => void,
    /** The queue was unused for its x-expires: delete it. */
    private readonly onUnused: (q: Queue) => void
  ) {}

  /** Run onExpiry at atMs, unless an earlier run is already due. */
  expireAt(q: Queue, atMs: number): void {
    const current = this.expiry.get(q)
    if (current !== undefined && current.atMs <= atMs) return
    if (current !== undefined) this.clock.clearTimer(current.handle)
    const handle = this.clock.setTimer(
      () => {
        this.expiry.delete(q)
        if (!q.deleted) this.onExpiry(q)
      },
      timerDelayMs(atMs - this.clock.nowMs())
    )
    this.expiry.set(q, { atMs, handle })
  }

  /** The queue was used now; with no consumers its x-expires countdown (re)starts. */
  used(q: Queue): void {
    const expiresMs = q.policy.expiresMs
    if (expiresMs === undefined) return
    this.lastUsedMs.set(q, this.clock.nowMs())
    if (q.consumerCount > 0) return
    this.clearUnused(q)
    const check = (): void => {
      this.unused.delete(q)
      if (q.deleted || q.consumerCount > 0) return
      const idleMs = this.clock.nowMs() - (this.lastUsedMs.get(q) ?? 0)
      if (idleMs >= expiresMs) this.onUnused(q)
      else this.unused.set(q, this.clock.setTimer(check, timerDelayMs(expiresMs - idleMs)))
    }
    this.unused.set(q, this.clock.setTimer(check, timerDelayMs(expiresMs)))
  }

  /** A consumer attached: no countdown while it stays. */
  consumed(q: Queue): void {
    this.clearUnused(q)
  }

  forget(q: Queue): void {
    const t = this.expiry.get(q)
    if (t !== undefined) {
      this.clock.clearTimer(t.handle)
      this.expiry.delete(q)
    }
    this.clearUnused(q)
    this.lastUsedMs.delete(q)
  }

  stopAll(): void {
    for (const t of this.expiry.values()) this.clock.clearTimer(t.handle)
    for (const t of this.unused.values()) this.clock.clearTimer(t)
    this.expiry.clear()
    this.unused.clear()
  }

  private clearUnused(q: Queue): void {
    const t = this.unused.get(q)
    if (t !== undefined) {
      this.clock.clearTimer(t)
      this.unused.delete(q)
    }
  }
}
