// Repeated warnings are written at most once per interval per message, with the count of the ones
// held back: an overload writes one line per interval, not one per message.
import type { Logger } from './logger.ts'

export class RateLimitedLog {
  private readonly last = new Map<string, { atMs: number, suppressed: number }>()

  constructor (private readonly log: Logger, private readonly intervalMs: number, private readonly nowMs: () => number) {}

  warn (message: string, fields: Record<string, unknown> = {}): void {
    const now = this.nowMs()
    const seen = this.last.get(message)
    if (seen !== undefined && now - seen.atMs < this.intervalMs) { seen.suppressed++; return }
    const suppressed = seen?.suppressed ?? 0
    if (this.last.size > 1000) this.last.clear() // bounded: messages are fixed texts, this is a safety net
    this.last.set(message, { atMs: now, suppressed: 0 })
    this.log.warn(message, suppressed > 0 ? { ...fields, suppressed } : fields)
  }
}
