/**
 * The publishing phases of a cross-protocol latency run, each started by its own `start` from
 * the parent: an unmeasured warm-up (JIT compilation, first allocations), then the measured
 * messages. Each phase has its own publisher id, so the receiver tells them apart.
 */
export interface RatePhase {
  readonly publisherId: number
  readonly messages: number
  /** Publishing stops after this long even if not all messages went (then waits for the acks). */
  readonly sendCapMs: number
}

export const MEASURED_PUBLISHER_ID = 0
export const WARMUP_PUBLISHER_ID = 1
