// Samples every queue's backlog every diagnose.sampleIntervalSeconds and keeps the last samplesMax,
// so /api/diagnose can tell a growing lag (the backlog rose over the window) from a steady one.
// Time comes from the injected clock; a deleted queue's samples go at the next sample.
import type { Clock, TimerHandle } from '../clock.ts'

export interface BacklogSample {
  readonly atMs: number
  readonly backlog: number
}

export interface LagTrend {
  readonly samples: number
  readonly spanSeconds: number
  /** Backlog change per second over the window (first to last sample); > 0: growing. */
  readonly growthPerSecond: number
}

export interface LagSamplerOptions {
  readonly clock: Clock
  readonly intervalMs: number
  readonly samplesMax: number
  /** Every queue now: a stable key and its backlog. */
  readonly backlogs: () => Iterable<readonly [string, number]>
}

export class LagSampler {
  private readonly series = new Map<string, BacklogSample[]>()
  private timer: TimerHandle | null = null

  constructor(private readonly opts: LagSamplerOptions) {
    if (!(opts.intervalMs > 0) || !(opts.samplesMax >= 2))
      throw new Error(`lag sampler: interval ${opts.intervalMs} ms and ${opts.samplesMax} samples (need > 0 ms and >= 2)`)
  }

  start(): void {
    if (this.timer !== null) return
    this.sample()
    const tick = (): void => {
      this.sample()
      this.timer = this.opts.clock.setTimer(tick, this.opts.intervalMs)
    }
    this.timer = this.opts.clock.setTimer(tick, this.opts.intervalMs)
  }

  stop(): void {
    if (this.timer !== null) this.opts.clock.clearTimer(this.timer)
    this.timer = null
  }

  sample(): void {
    const atMs = this.opts.clock.nowMs()
    const seen = new Set<string>()
    for (const [key, backlog] of this.opts.backlogs()) {
      seen.add(key)
      let s = this.series.get(key)
      if (s === undefined) {
        s = []
        this.series.set(key, s)
      }
      s.push({ atMs, backlog })
      if (s.length > this.opts.samplesMax) s.shift()
    }
    for (const key of this.series.keys()) if (!seen.has(key)) this.series.delete(key)
  }

  /** The trend over the samples kept, with `now` as the last point; null before a first sample. */
  trend(key: string, now?: BacklogSample): LagTrend | null {
    const kept = this.series.get(key) ?? []
    const s = now === undefined ? kept : [...kept, now]
    const first = s[0]
    const last = s[s.length - 1]
    if (first === undefined || last === undefined || s.length < 2 || last.atMs === first.atMs) return null
    const spanSeconds = (last.atMs - first.atMs) / 1000
    return { samples: s.length, spanSeconds, growthPerSecond: (last.backlog - first.backlog) / spanSeconds }
  }
}
