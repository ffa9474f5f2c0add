// A durable queue's delivered watermark, committed ahead of what it hands out. After a crash, every
// entry at or below the stored watermark comes back redelivered (MQTT DUP=1 [MQTT-3.3.1-1], AMQP
// redelivered=true); a mark committed only after the delivery left, as the lazy per-turn mark did,
// is lost to a kill inside the commit window and the resend goes out as a first delivery.
//
// So an entry is handed out only below a watermark already committed, as the bridge's forwarder
// does: the queue reserves a step of seqs ahead and asks for the next step when half of it is
// used, so in the steady state the reservation commits while the current one is in use and no
// delivery waits; one write per step, none per message. A step that ran out before its successor
// committed (the queue outran the commit) doubles, up to STEP_MAX. The cost is a false DUP=1 after
// a crash on at most one step of entries never sent (the spec allows it: DUP is a hint); a clean
// shutdown writes back the real watermark (deliveredSeq), so a clean restart flags none of them.
import type { Queue, QueueHost } from './queue.ts'

/** Entries reserved per write at first: a fresh session's first deliveries fit in one. */
const STEP_MIN = 256
/** Bound on the step, and so on the entries a crash flags redelivered without having sent them. */
const STEP_MAX = 65_536

export class DeliveredWatermark {
  /** Highest seq that may have been delivered (handed out, or restored as such): the truth at a clean shutdown. */
  deliveredSeq: number
  /** Committed: entries up to here may be handed out now. */
  private reservedSeq: number
  /** A reservation being committed, up to this seq (0: none). */
  private reservingSeq = 0
  private step = STEP_MIN
  /** A delivery waits for the reservation being committed. */
  private waiting = false

  constructor(
    private readonly queue: Queue,
    private readonly host: QueueHost,
    /** The watermark read back at start: committed already. */
    restoredSeq: number
  ) {
    this.deliveredSeq = restoredSeq
    this.reservedSeq = restoredSeq
  }

  /** Whether the committed watermark is above the real one (a clean shutdown writes the real one back). */
  get reservedAhead(): boolean {
    return this.reservedSeq > this.deliveredSeq && this.reservedSeq !== Number.POSITIVE_INFINITY
  }

  /**
   * Whether the entry of this seq may be handed out now. Asks for the next step when half of this
   * one is used; when the entry is beyond it, the queue dispatches again once that committed.
   */
  covers(seq: number): boolean {
    if (seq + this.step / 2 > this.reservedSeq) this.reserveFrom(seq)
    if (seq <= this.reservedSeq) return true
    this.waiting = true
    return false
  }

  /** The entry of this seq was handed out (or may have been). */
  handedOut(seq: number): void {
    if (seq > this.deliveredSeq) this.deliveredSeq = seq
  }

  private reserveFrom(seq: number): void {
    if (this.reservingSeq !== 0) return
    const upTo = seq + this.step
    const committed = this.host.commitDelivered(this.queue, upTo)
    if (committed === null) {
      this.reservedSeq = Number.POSITIVE_INFINITY // nothing outlives the process: no mark to wait for
      return
    }
    // Asked for ahead of need (not by a delivery already waiting: a queue's first, or one after idling).
    const ahead = seq <= this.reservedSeq
    this.reservingSeq = upTo
    committed.then(
      () => {
        const waited = this.waiting
        // Half a step did not last one commit: this queue runs faster than the step allows.
        if (ahead && waited) this.step = Math.min(this.step * 2, STEP_MAX)
        this.waiting = false
        this.reservingSeq = 0
        this.reservedSeq = Math.max(this.reservedSeq, upTo)
        if (waited) this.queue.dispatch()
      },
      () => {
        // The host logged the failure; the next dispatch (a publish, an ack) asks again.
        this.reservingSeq = 0
      }
    )
  }
}
