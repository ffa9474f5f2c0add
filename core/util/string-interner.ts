// One copy of strings that many long-lived objects repeat (the exchange and routing key of each
// queued message): a string decoded from a frame is a new copy each time, and a queued message is
// held in memory until consumed. Bounded: when full it starts over, so a stream of distinct names
// costs a lookup and an insert each, and never more memory than entriesMax strings.
export class StringInterner {
  private readonly kept = new Map<string, string>()

  constructor(private readonly entriesMax: number) {
    if (!(entriesMax >= 1)) throw new RangeError(`string interner: entriesMax must be >= 1, got ${entriesMax}`)
  }

  /** The kept copy equal to s (s itself the first time). */
  intern(s: string): string {
    const kept = this.kept.get(s)
    if (kept !== undefined) return kept
    if (this.kept.size >= this.entriesMax) this.kept.clear()
    this.kept.set(s, s)
    return s
  }
}
