// Rates of change per second of counters (messages published, bytes received) and gauges (queue depth), as the
// management API reports them ({"publish": 120, "publish_details": {"rate": 4.2}}). A rate is the
// change between two readings at least intervalMs apart, taken when asked: no timer runs, and the
// clock is injected. Keys not read for forgetAfterMs (a closed connection's) are dropped.

interface Reading {
  atMs: number
  value: number
  rate: number
  readAtMs: number
}

export class RateTracker {
  private readonly readings = new Map<string, Reading>()
  private sweptAtMs = 0

  constructor(
    private readonly nowMs: () => number,
    private readonly intervalMs = 1000,
    private readonly forgetAfterMs = 60_000
  ) {}

  /** The per-second rate of `key`, whose total is `value` now. */
  rate(key: string, value: number): number {
    const now = this.nowMs()
    this.sweep(now)
    const r = this.readings.get(key)
    if (r === undefined) {
      this.readings.set(key, { atMs: now, value, rate: 0, readAtMs: now })
      return 0
    }
    r.readAtMs = now
    const elapsedMs = now - r.atMs
    if (elapsedMs >= this.intervalMs) {
      r.rate = ((value - r.value) * 1000) / elapsedMs
      r.atMs = now
      r.value = value
    }
    return round(r.rate)
  }

  /** {"<name>": total, "<name>_details": {"rate": r}}: RabbitMQ's shape. */
  stat(key: string, name: string, value: number): Record<string, unknown> {
    return { [name]: value, [`${name}_details`]: { rate: this.rate(key, value) } }
  }

  private sweep(now: number): void {
    if (now - this.sweptAtMs < this.forgetAfterMs) return
    this.sweptAtMs = now
    for (const [k, r] of this.readings) if (now - r.readAtMs > this.forgetAfterMs) this.readings.delete(k)
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}
