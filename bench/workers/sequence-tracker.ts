import type { ClientCounts } from './worker-messages.ts'

/** Counts every sequence number of every publisher one subscriber receives: lost and duplicates. */
export class SequenceTracker {
  received = 0
  unique = 0
  duplicates = 0
  unexpected = 0
  firstMs = 0
  lastMs = 0
  private readonly seen: Uint8Array[]

  constructor(
    readonly clientId: string,
    publishers: number,
    readonly maxSeq: number
  ) {
    this.seen = Array.from({ length: publishers }, () => new Uint8Array(maxSeq))
  }

  record(publisherId: number, seq: number, nowMs: number): void {
    this.received++
    if (this.firstMs === 0) this.firstMs = nowMs
    this.lastMs = nowMs
    const seen = this.seen[publisherId]
    if (seen === undefined || seq >= this.maxSeq) {
      this.unexpected++
      return
    }
    if (seen[seq] === 1) {
      this.duplicates++
      return
    }
    seen[seq] = 1
    this.unique++
  }

  isComplete(sentPerPublisher: readonly number[]): boolean {
    return this.unique >= sentPerPublisher.reduce((a, b) => a + b, 0)
  }

  /** Sequence numbers below each publisher's sent count that never arrived. */
  lost(sentPerPublisher: readonly number[]): number {
    let lost = 0
    sentPerPublisher.forEach((sent, publisherId) => {
      const seen = this.seen[publisherId]
      for (let seq = 0; seq < sent; seq++) if (seen?.[seq] !== 1) lost++
    })
    return lost
  }

  counts(sentPerPublisher: readonly number[]): ClientCounts {
    return {
      clientId: this.clientId,
      received: this.received,
      unique: this.unique,
      duplicates: this.duplicates,
      unexpected: this.unexpected,
      lost: this.lost(sentPerPublisher),
      firstMs: this.firstMs,
      lastMs: this.lastMs
    }
  }
}
