// Repeated warnings, for every component: a line repeated within log.repeatIntervalSeconds is held
// back and counted, and when the interval ends one more line says how many were held back
// (`suppressed`). An overload writes two lines per interval, not one per dropped message — and the
// count is written even if the overload stops, since a timer writes it.
import type { Clock, TimerHandle } from './clock.ts'
import type { Logger } from './logger.ts'

interface Window {
  startedMs: number
  suppressed: number
  /** Fields of the latest line held back: the summary line carries them. */
  last: Record<string, unknown>
  timer: TimerHandle | null
}

/** Distinct repeated lines tracked at once; messages are fixed texts, so this is a safety net. */
const KEYS_MAX = 1000

export class RateLimitedLog {
  private readonly windows = new Map<string, Window>()

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly clock: Clock
  ) {
    if (!(intervalMs > 0)) throw new Error(`rate-limited log: interval must be > 0 ms, got ${intervalMs}`)
  }

  warn(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('warn', msg, fields)
  }
  info(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('info', msg, fields)
  }
  error(msg: string, fields: Record<string, unknown> = {}): void {
    this.write('error', msg, fields)
  }

  /** Writes the pending counts now and stops the timers (shutdown). */
  close(): void {
    for (const [key, w] of this.windows) this.flush(key, w)
    this.windows.clear()
  }

  private write(level: 'warn' | 'info' | 'error', msg: string, fields: Record<string, unknown>): void {
    const key = `${level} ${msg}`
    const now = this.clock.nowMs()
    const w = this.windows.get(key)
    if (w !== undefined && now - w.startedMs < this.intervalMs) {
      w.suppressed++
      w.last = fields
      w.timer ??= this.clock.setTimer(
        () => {
          w.timer = null
          this.flush(key, w)
        },
        w.startedMs + this.intervalMs - now
      )
      return
    }
    if (w === undefined && this.windows.size >= KEYS_MAX) this.close()
    this.windows.set(key, { startedMs: now, suppressed: 0, last: {}, timer: null })
    this.log[level](msg, fields)
  }

  /** The interval ended with lines held back: one line with their count, and a new interval starts. */
  private flush(key: string, w: Window): void {
    if (w.timer !== null) {
      this.clock.clearTimer(w.timer)
      w.timer = null
    }
    if (w.suppressed === 0) return
    const level = key.slice(0, key.indexOf(' ')) as 'warn' | 'info' | 'error'
    const msg = key.slice(level.length + 1)
    this.log[level](msg, { ...w.last, suppressed: w.suppressed, intervalSeconds: this.intervalMs / 1000 })
    w.startedMs = this.clock.nowMs()
    w.suppressed = 0
  }
}
