/**
 * How often each sequence number of each publisher was received (saturating at 255). Unlike
 * SequenceTracker it can be sent to the parent and merged, so messages spread over several
 * consumers are still checked for loss and duplicates as one set.
 */
export class ReceiptCounts {
  unexpected = 0
  unique = 0
  private readonly counts: Uint8Array

  constructor(
    readonly publishers: number,
    readonly maxSeq: number,
    counts?: Uint8Array
  ) {
    this.counts = counts ?? new Uint8Array(publishers * maxSeq)
    if (this.counts.length !== publishers * maxSeq) throw new Error(`receipt counts: ${this.counts.length} entries for ${publishers} x ${maxSeq}`)
    if (counts !== undefined) for (const c of counts) if (c > 0) this.unique++
  }

  /** True when this is the first receipt of that message. */
  record(publisherId: number, seq: number): boolean {
    if (publisherId < 0 || publisherId >= this.publishers || seq >= this.maxSeq) {
      this.unexpected++
      return false
    }
    const i = publisherId * this.maxSeq + seq
    const before = this.counts[i] ?? 0
    if (before < 255) this.counts[i] = before + 1
    if (before === 0) this.unique++
    return before === 0
  }

  encode(): string {
    return Buffer.from(this.counts.buffer, this.counts.byteOffset, this.counts.byteLength).toString('base64')
  }

  static decode(publishers: number, maxSeq: number, encoded: string): ReceiptCounts {
    return new ReceiptCounts(publishers, maxSeq, new Uint8Array(Buffer.from(encoded, 'base64')))
  }

  static merge(parts: readonly ReceiptCounts[]): ReceiptCounts {
    const first = parts[0]
    if (first === undefined) throw new Error('receipt counts: nothing to merge')
    const sum = new Uint8Array(first.publishers * first.maxSeq)
    for (const part of parts) part.counts.forEach((c, i) => (sum[i] = Math.min(255, (sum[i] ?? 0) + c)))
    const merged = new ReceiptCounts(first.publishers, first.maxSeq, sum)
    merged.unexpected = parts.reduce((n, p) => n + p.unexpected, 0)
    return merged
  }

  /** Against what each publisher sent (sequence numbers 0..sent-1): never received, and extra receipts. */
  check(sentPerPublisher: readonly number[]): { lost: number; duplicates: number } {
    let lost = 0
    let duplicates = 0
    sentPerPublisher.forEach((sent, publisherId) => {
      for (let seq = 0; seq < Math.min(sent, this.maxSeq); seq++) {
        const c = this.counts[publisherId * this.maxSeq + seq] ?? 0
        if (c === 0) lost++
        else duplicates += c - 1
      }
    })
    return { lost, duplicates }
  }

  isComplete(totalSent: number): boolean {
    return this.unique >= totalSent
  }
}
