// The one clock of Wharf: the time and timers, injected wherever time matters (TTL, x-expires,
// stream segment age, tiering checks and retry backoff, disk checks, AMQP handshake deadlines and
// heartbeats), so tests move time by hand (ManualClock, manual-clock.ts) instead of sleeping.

export interface TimerHandle {
  readonly id: unknown
}

export interface Clock {
  nowMs(): number
  /** A monotonic reading with sub-millisecond resolution, for durations (latency histograms). */
  monotonicMs(): number
  /** Calls fn once, delayMs from now. */
  setTimer(fn: () => void, delayMs: number): TimerHandle
  /** Cancels a timer; one that already fired or was cleared is ignored. */
  clearTimer(handle: TimerHandle): void
}

/** Wall-clock time and Node timers; a pending timer does not keep the process alive. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimer(fn, delayMs) {
    const t = setTimeout(fn, delayMs)
    t.unref()
    return { id: t }
  },
  clearTimer(handle) {
    clearTimeout(handle.id as NodeJS.Timeout)
  }
}
