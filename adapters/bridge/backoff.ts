// Reconnect delays: exponential (initial, doubled per failed attempt, capped at max) with jitter, so
// that edges cut off together by one outage do not all come back in the same millisecond. The delay
// is drawn uniformly from the upper half of the step ("equal jitter"): never much shorter than the step.
export class Backoff {
  private attempt = 0

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    /** [0, 1); injected so tests are deterministic. */
    private readonly random: () => number = Math.random
  ) {
    if (!(initialMs > 0) || !(maxMs >= initialMs)) throw new Error(`backoff: need 0 < initialMs <= maxMs, got ${initialMs} and ${maxMs}`)
  }

  /** The delay before the next attempt, in ms. */
  nextDelayMs(): number {
    const step = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 40))
    this.attempt++
    return Math.round(step / 2 + (this.random() * step) / 2)
  }

  /** Failed attempts since the last reset. */
  get failures(): number {
    return this.attempt
  }

  /** A connection held: the next failure starts from initialMs again. */
  reset(): void {
    this.attempt = 0
  }
}
