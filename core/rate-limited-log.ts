// Repeated warnings, for every component: a line repeated within log.repeatIntervalSeconds is held
// back and counted, and when the interval ends one more line says how many were held back
// (`suppressed`). An overload writes two lines per interval, not one per dropped message — and the
// count is written even if the overload stops, since a timer writes it.
import type { Clock, TimerHandle } from './clock.ts'
import type { Logger } from './logger.ts'

interface Window {
  level: 'warn' | 'info' | 'error'
  msg: string
  startedMs: number
  suppressed: number
  /** Fields of the latest line held back: the summary line carries them. */
  last: Record<string, unknown>
  timer: TimerHandle | null
}

/** Distinct repeated lines tracked at once; messages are fixed texts and scopes few, so this is a safety net. */
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

  /**
   * scope: what the line is about when each one counts apart (a queue's name): one line per interval
   * per scope, where without it one line of that text per interval speaks for all.
   */
  warn(msg: string, fields: Record<string, unknown> = {}, scope?: string): void {
    this.write('warn', msg, fields, scope)
  }
  info(msg: string, fields: Record<string, unknown> = {}, scope?: string): void {
    this.write('info', msg, fields, scope)
  }
  error(msg: string, fields: Record<string, unknown> = {}, scope?: string): void {
    this.write('error', msg, fields, scope)
  }

  /** Writes the pending counts now and stops the timers (shutdown). */
  close(): void {
    for (const w of this.windows.values()) this.flush(w)
    this.windows.clear()
  }

  private write(level: 'warn' | 'info' | 'error', msg: string, fields: Record<string, unknown>, scope: string | undefined): void {
    const key = scope === undefined ? `${level} ${msg}` : `${level} ${msg}\u0000${scope}`
    const now = this.clock.nowMs()
    const w = this.windows.get(key)
    if (w !== undefined && now - w.startedMs < this.intervalMs) {
      w.suppressed++
      w.last = fields
      w.timer ??= this.clock.setTimer(
        () => {
          w.timer = null
          this.flush(w)
        },
        w.startedMs + this.intervalMs - now
      )
      return
    }
    if (w === undefined && this.windows.size >= KEYS_MAX) this.close()
    this.windows.set(key, { level, msg, startedMs: now, suppressed: 0, last: {}, timer: null })
    this.log[level](msg, fields)
  }

  /** The interval ended with lines held back: one line with their count, and a new interval starts. */
  private flush(w: Window): void {
    if (w.timer !== null) {
      this.clock.clearTimer(w.timer)
      w.timer = null
    }
    if (w.suppressed === 0) return
    this.log[w.level](w.msg, { ...w.last, suppressed: w.suppressed, intervalSeconds: this.intervalMs / 1000 })
    w.startedMs = this.clock.nowMs()
    w.suppressed = 0
  }
}
