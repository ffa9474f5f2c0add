// Time for the model: the clock it reads and the timers it sets (TTL expiry, x-expires), both
// injected so tests can run expiry without sleeping (see ManualTime in model-test-support.ts).
import type { Clock } from '../clock.ts'

export interface Timers extends Clock {
  setTimer (fn: () => void, delayMs: number): TimerHandle
  clearTimer (handle: TimerHandle): void
}

export interface TimerHandle { readonly id: unknown }

export const systemTimers: Timers = {
  nowMs: () => Date.now(),
  setTimer (fn, delayMs) {
    const t = setTimeout(fn, delayMs)
    t.unref()
    return { id: t }
  },
  clearTimer (handle) { clearTimeout(handle.id as NodeJS.Timeout) }
}
