// Samples every queue's backlog every diagnose.sampleIntervalSeconds and keeps the last samplesMax,
// so /api/diagnose can tell a growing lag (the backlog rose over the window) from a steady one.
// Time comes from the injected clock; a deleted queue's samples go at the next sample.
//
// Every queue is sampled at the same instants, so the times are kept once, in a ring of rounds, and a
// queue keeps only its backlogs, and none while they are all 0: an idle MQTT session (one queue per
// client, 10,000 on a gateway) costs one small record here, where a sample object per round cost it
// ~0.4 KB and a key string rebuilt each round.
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

/** Calls visit once per queue: a stable key (the queue object, or a name) and its backlog now. */
export type BacklogSource<K> = (visit: (key: K, backlog: number) => void) => void

export interface LagSamplerOptions<K> {
  readonly clock: Clock
  readonly intervalMs: number
  readonly samplesMax: number
  readonly backlogs: BacklogSource<K>
}

/** One key's samples: the rounds firstRound..lastRound, backlogs by round % samplesMax (null: all 0). */
interface Series {
  readonly firstRound: number
  lastRound: number
  backlogs: number[] | null
}

export class LagSampler<K = string> {
  private readonly series = new Map<K, Series>()
  /** When each of the last samplesMax rounds was taken, by round % samplesMax. */
  private readonly roundsAtMs: number[] = []
  /** The last round taken; -1 before the first. */
  private round = -1
  private timer: TimerHandle | null = null
  private readonly visit = (key: K, backlog: number): void => this.record(key, backlog)
  /** A key the last round did not visit (its queue was deleted) loses its samples. */
  private readonly dropUnsampled = (s: Series, key: K): void => {
    if (s.lastRound !== this.round) this.series.delete(key)
  }

  constructor(private readonly opts: LagSamplerOptions<K>) {
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
    this.round++
    this.roundsAtMs[this.round % this.opts.samplesMax] = this.opts.clock.nowMs()
    this.opts.backlogs(this.visit)
    // forEach, not for...of over entries: no [key, value] pair per queue each round (deleting the
    // entry being visited is allowed).
    this.series.forEach(this.dropUnsampled)
  }

  private record(key: K, backlog: number): void {
    let s = this.series.get(key)
    if (s === undefined) {
      s = { firstRound: this.round, lastRound: this.round, backlogs: null }
      this.series.set(key, s)
    }
    s.lastRound = this.round
    const slot = this.round % this.opts.samplesMax
    if (s.backlogs !== null) {
      s.backlogs[slot] = backlog
      if (backlog === 0 && s.backlogs.every(b => b === 0)) s.backlogs = null // a drained queue is idle again
    } else if (backlog !== 0) {
      // Slots of earlier rounds (or none yet) are 0, which they were.
      s.backlogs = new Array<number>(this.opts.samplesMax).fill(0)
      s.backlogs[slot] = backlog
    }
  }

  /** The trend over the samples kept, with `now` as the last point; null before a first sample. */
  trend(key: K, now?: BacklogSample): LagTrend | null {
    const s = this.series.get(key)
    let first: BacklogSample | undefined
    let last: BacklogSample | undefined
    let samples = 0
    if (s !== undefined) {
      const from = Math.max(s.firstRound, this.round - this.opts.samplesMax + 1)
      samples = this.round - from + 1
      first = this.sampleAt(s, from)
      last = this.sampleAt(s, this.round)
    }
    if (now !== undefined) {
      first ??= now
      last = now
      samples++
    }
    if (first === undefined || last === undefined || samples < 2 || last.atMs === first.atMs) return null
    const spanSeconds = (last.atMs - first.atMs) / 1000
    return { samples, spanSeconds, growthPerSecond: (last.backlog - first.backlog) / spanSeconds }
  }

  private sampleAt(s: Series, round: number): BacklogSample {
    const slot = round % this.opts.samplesMax
    return { atMs: this.roundsAtMs[slot] as number, backlog: s.backlogs?.[slot] ?? 0 }
  }
}
