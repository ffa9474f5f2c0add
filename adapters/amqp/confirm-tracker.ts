// Publisher confirms of one channel. Every publish in confirm mode gets the next sequence number;
// it is settled when routed and (if persistent in a durable queue) committed. Confirms go out in
// sequence order, a run of acks (or nacks) as one frame with multiple=true, so a group commit of
// a thousand messages is one basic.ack, as RabbitMQ sends it. A confirm never covers a sequence
// number that is not settled, and a nack goes out before an ack that follows it.

type Outcome = 'ack' | 'nack'

/**
 * When settled confirms are sent. A group commit resolves all its writes at once and the confirms
 * are settled in the promise reactions that follow (some a few hops deep, behind Promise.all);
 * process.nextTick, asked for from such a reaction, runs once no reaction is left, so every confirm
 * of that commit is settled by then and goes out in the same frame.
 */
export type Defer = (fn: () => void) => void

const afterPromiseReactions: Defer = fn => {
  process.nextTick(fn)
}

export class ConfirmTracker {
  private nextSeq = 1
  private headSeq = 1
  private outcomes: Array<Outcome | undefined> = []
  private head = 0
  private emitScheduled = false

  constructor(
    private readonly send: (outcome: Outcome, deliveryTag: number, multiple: boolean) => void,
    private readonly defer: Defer = afterPromiseReactions
  ) {}

  /** The sequence number of the next publish (its delivery tag in basic.ack / basic.nack). */
  next(): number {
    this.outcomes.push(undefined)
    return this.nextSeq++
  }

  settle(seq: number, outcome: Outcome): void {
    const i = this.head + (seq - this.headSeq)
    if (i < this.head || i >= this.outcomes.length || this.outcomes[i] !== undefined) return
    this.outcomes[i] = outcome
    if (seq !== this.headSeq || this.emitScheduled) return
    this.emitScheduled = true
    this.defer(() => {
      this.emitScheduled = false
      this.emit()
    })
  }

  private emit(): void {
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
      if (outcome !== runKind) {
        flushRun()
        runKind = outcome
        runStart = seq
      }
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
