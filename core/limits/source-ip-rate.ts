// New connections per second from one source address, checked at accept: a client (or a fuzzer, or
// a reconnect loop) that opens connections faster is closed before it costs a TLS handshake or a
// parser. One token bucket per address, holding one second of the rate.
import { TokenBucket } from './token-bucket.ts'

export class SourceIpRate {
  private readonly buckets = new Map<string, TokenBucket>()

  /**
   * connectionsPerSecond 0 = no limit. addressesMax (limits.perSourceIp.addressesMax): addresses
   * remembered at most; beyond it idle ones are forgotten (and, under a flood, all).
   */
  constructor(
    private readonly connectionsPerSecond: number,
    private readonly nowMs: () => number,
    private readonly addressesMax: number
  ) {}

  get enabled(): boolean {
    return this.connectionsPerSecond > 0
  }

  /** True when a new connection from `address` may proceed (and counts it). */
  allow(address: string | undefined): boolean {
    if (this.connectionsPerSecond <= 0) return true
    const key = normalize(address)
    const now = this.nowMs()
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      if (this.buckets.size >= this.addressesMax) this.prune(now)
      bucket = new TokenBucket(this.connectionsPerSecond, this.connectionsPerSecond, now)
      this.buckets.set(key, bucket)
    }
    return bucket.tryTake(1, now)
  }

  /** Addresses remembered now (for tests and metrics). */
  get size(): number {
    return this.buckets.size
  }

  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.full(now)) this.buckets.delete(key)
    // Still full of busy addresses: forget them all rather than grow without bound (fail open).
    if (this.buckets.size >= this.addressesMax) this.buckets.clear()
  }
}

/** IPv4 clients of a dual-stack listener arrive as ::ffff:a.b.c.d: one address, one bucket. */
function normalize(address: string | undefined): string {
  if (address === undefined) return '?'
  return address.startsWith('::ffff:') ? address.slice(7) : address
}
