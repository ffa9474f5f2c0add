// The clock driven by hand: tests move time with advance() and due timers fire in order, so TTL,
// expiry, tiering age, backoff and heartbeats are tested without sleeping.
import type { Clock, TimerHandle } from './clock.ts'

interface Pending {
  readonly id: number
  readonly atMs: number
  readonly fn: () => void
}

export class ManualClock implements Clock {
  private now: number
  private nextId = 1
  private pending: Pending[] = []

  constructor(startMs = 1_700_000_000_000) {
    this.now = startMs
  }

  nowMs(): number {
    return this.now
  }

  /** Moves with the time set by hand, so measured durations are exact in tests. */
  monotonicMs(): number {
    return this.now
  }

  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const p = { id: this.nextId++, atMs: this.now + Math.max(0, delayMs), fn }
    this.pending.push(p)
    return { id: p.id }
  }

  clearTimer(handle: TimerHandle): void {
    this.pending = this.pending.filter(p => p.id !== handle.id)
  }

  get pendingCount(): number {
    return this.pending.length
  }

  /** Moves time forward, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const until = this.now + ms
    for (;;) {
      const due = this.pending.filter(p => p.atMs <= until).sort((a, b) => a.atMs - b.atMs || a.id - b.id)[0]
      if (due === undefined) break
      this.pending = this.pending.filter(p => p !== due)
      this.now = Math.max(this.now, due.atMs)
      due.fn()
    }
    this.now = until
  }
}
