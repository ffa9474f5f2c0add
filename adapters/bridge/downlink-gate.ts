// Whether the bridges may take messages from their remotes now. While the local store is over its
// disk watermark (storage.localBytesMax), or the heap over the memory watermark
// (runtime.heapWatermarkRatio), a downlink must not store more, as publishers are refused
// (DESIGN §4): it stops taking instead, and what the remote holds waits there. An AMQP link holds
// the deliveries it has (the remote sends no more than the prefetch) and acks them once they are
// stored after the clearance; an MQTT link leaves what arrives unacknowledged and reconnects after
// the clearance, when the remote session sends it again (links/*-link.ts).
export class DownlinkGate {
  /** Each source's reason (disk, memory): the gate opens when none holds. */
  private readonly reasons = new Map<string, string>()
  private waiters: Array<() => void> = []
  private readonly openListeners = new Set<() => void>()

  /** Why downlinks must not take messages now, or null. */
  get reason(): string | null {
    return this.reasons.size === 0 ? null : [...this.reasons.values()].join('; ')
  }

  /** A watermark's reason (publishers refused) or null (cleared); `source` names the watermark. */
  set(source: string, reason: string | null): void {
    const wasClosed = this.reasons.size > 0
    if (reason === null) this.reasons.delete(source)
    else this.reasons.set(source, reason)
    if (this.reasons.size > 0 || !wasClosed) return
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
    for (const l of [...this.openListeners]) l()
  }

  /** Resolves at once when open, else at the clearance. */
  whenOpen(): Promise<void> {
    if (this.reasons.size === 0) return Promise.resolve()
    return new Promise(resolve => this.waiters.push(resolve))
  }

  /** Told at each clearance until the returned function is called. */
  onOpen(listener: () => void): () => void {
    this.openListeners.add(listener)
    return () => this.openListeners.delete(listener)
  }
}
