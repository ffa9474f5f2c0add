// Publisher confirms of one channel. Every publish in confirm mode gets the next sequence number;
// it is settled when routed and (if persistent in a durable queue) committed. Confirms go out in
// sequence order, a run of acks (or nacks) as one frame with multiple=true, so a group commit of
// a thousand messages is one basic.ack.

type Outcome = 'ack' | 'nack'

export class ConfirmTracker {
  private nextSeq = 1
  private headSeq = 1
  private outcomes: Array<Outcome | undefined> = []
  private head = 0

  constructor (private readonly send: (outcome: Outcome, deliveryTag: number, multiple: boolean) => void) {}

  /** The sequence number of the next publish (its delivery tag in basic.ack / basic.nack). */
  next (): number {
    this.outcomes.push(undefined)
    return this.nextSeq++
  }

  settle (seq: number, outcome: Outcome): void {
    const i = this.head + (seq - this.headSeq)
    if (i < this.head || i >= this.outcomes.length || this.outcomes[i] !== undefined) return
    this.outcomes[i] = outcome
    if (seq === this.headSeq) this.emit()
  }

  private emit (): void {
    let runKind: Outcome | undefined
    let runStart = 0
    let runEnd = 0
    const flushRun = (): void => {
      if (runKind !== undefined) this.send(runKind, runEnd, runEnd > runStart)
    }
    while (this.head < this.outcomes.length) {
      const outcome = this.outcomes[this.head]
      if (outcome === undefined) break
      const seq = this.headSeq
      if (outcome !== runKind) { flushRun(); runKind = outcome; runStart = seq }
      runEnd = seq
      this.head++
      this.headSeq++
    }
    flushRun()
    if (this.head > 1024 && this.head * 2 > this.outcomes.length) {
      this.outcomes = this.outcomes.slice(this.head)
      this.head = 0
    }
  }
}
