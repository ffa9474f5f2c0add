// The uplink: the one consumer of a bridge's queue. It takes entries in queue order while its link
// is up and its window (and the rate cap) allow, sends them, and settles (deletes) each only when
// the remote confirmed it. A lost link gives every unconfirmed entry back to the queue, in its place
// and marked redelivered, so the next link sends the backlog first and in order.
//
// An entry is sent only below a delivered watermark already committed: the forwarder reserves up to
// two windows of seqs ahead of what it sends, so after a crash every entry that may have reached
// the remote comes back marked redelivered, and the duplicates a crash can cause are among those
// counted (at most two windows more are counted than were sent). In the steady state the next
// reservation commits while the current one is being used: nothing waits for it.
//
// A message the remote refuses for good (links/message-refusal.ts), one over the body size the
// remote is known to take, or one that went up through hopsMax Wharf bridges, is dead-lettered
// (dead-letters.ts) and settled: the link stays up and the messages after it go on in order.
import type { Clock, TimerHandle } from '../../core/clock.ts'
import type { Counter } from '../../core/metrics.ts'
import type { Queue, QueueConsumer } from '../../core/model/queue.ts'
import type { Message } from '../../core/model/message.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { BridgeDirectionConfig } from '../../edge-config/config-types.ts'
import { routingKeyToTopic } from '../mqtt/topic-grammar.ts'
import { forwardDecision, hopLimitProblem } from './loop-marks.ts'
import type { RemoteLink } from './links/link.ts'
import { isPermanentRefusal, MessageRefusal } from './links/message-refusal.ts'
import type { TokenBucket } from './token-bucket.ts'
import { outboundTopic } from './topic-mapping.ts'

export interface ForwarderCounters {
  /** Sent to the remote (again, for redelivered ones). */
  readonly forwarded: Counter
  /** Confirmed by the remote and deleted here. */
  readonly confirmed: Counter
  /** Sent although they may have been sent before (after a lost link or a restart): the possible duplicates. */
  readonly redelivered: Counter
  /** Not sent: they came down this bridge, or already went through the remote (loop-marks.ts). */
  readonly loopsSkipped: Counter
  /** Refused by the remote for good (or over its known size): moved to the bridge's dead-letter queue. */
  readonly deadLettered: Counter
}

export interface ForwarderOptions {
  readonly bridgeName: string
  readonly out: BridgeDirectionConfig
  /** A message that went up through this many Wharf bridges is dead-lettered, not sent (loop-marks.ts). */
  readonly hopsMax: number
  readonly clock: Clock
  /** null: no rate cap. */
  readonly bucket: TokenBucket | null
  readonly counters: ForwarderCounters
  /** Marks entries up to seq as possibly delivered; settles once committed (Vhost.reserveDelivered). */
  readonly reserveDelivered: (queue: Queue, seq: number) => Promise<void>
  /** An entry left the backlog (confirmed or skipped). */
  readonly onSettled: () => void
  /** The remote confirmed a message: the link works. */
  readonly onConfirmed: () => void
  /** The remote refused a message on a link that is still up (or the barrier failed): the bridge ends the link. */
  readonly onRefused: (link: RemoteLink, err: Error) => void
  /** The largest body the remote takes, as far as known (0: not known): larger ones are dead-lettered unsent. */
  readonly remoteBodyBytesMax: () => number
  /** Why the remote refuses messages to this remote topic now (refused-topics.ts), or null: refused ones are dead-lettered unsent. */
  readonly refusedTopic: (remoteTopic: string) => string | null
  /** Stores a copy of a refused entry in the dead-letter queue; resolves once committed. */
  readonly deadLetter: (entry: QueueEntry, reason: string) => Promise<void>
  /** Told of each dead-lettered message (the bridge logs them, rate limited). */
  readonly onDeadLettered: (entry: QueueEntry, reason: string) => void
}

export class Forwarder implements QueueConsumer {
  readonly noAck = false
  readonly exclusive = true
  readonly tag: string
  /** Entries handed out and not settled, in queue order. */
  readonly inflight = new Set<QueueEntry>()
  inflightBytes = 0
  private link: RemoteLink | null = null
  private window = 0
  /** Entries up to this seq may be sent: the delivered watermark committed for them. */
  private reservedSeq = 0
  /** A reservation being committed, up to this seq (0: none). */
  private reservingSeq = 0
  /** Handed out, waiting for their reservation, in queue order. */
  private waiting: QueueEntry[] = []
  private rateTimer: TimerHandle | null = null
  /** Told when the queue is deleted under it (by an operator). */
  onQueueGone: () => void = () => {}

  constructor(
    private queue: Queue,
    private readonly opts: ForwarderOptions
  ) {
    this.tag = `bridge:${opts.bridgeName}`
  }

  get connected(): boolean {
    return this.link !== null
  }

  /** The link's window: entries sent and not confirmed at most (0 while there is no link). */
  get windowMax(): number {
    return this.link === null ? 0 : this.window
  }

  /** Starts sending on a new link: the backlog first, as the queue holds it in order. */
  attach(link: RemoteLink): void {
    this.link = link
    this.window = link.windowMax
    this.queue.dispatch()
  }

  /**
   * The link is gone: what it did not confirm goes back to the queue, in place, marked redelivered.
   * `refused`: the remote refused the messages to that topic for good while ending the link (an AMQP
   * topic permission closes the channel and names the routing key, not the message); those in
   * flight are dead-lettered instead. Returns how many were.
   */
  detach(refused: { readonly remoteTopic: string; readonly reason: string } | null = null): number {
    this.link = null
    this.waiting = []
    if (this.rateTimer !== null) {
      this.opts.clock.clearTimer(this.rateTimer)
      this.rateTimer = null
    }
    let deadLettered = 0
    if (refused !== null) {
      for (const entry of [...this.inflight]) {
        if (this.remoteTopic(entry.message) !== refused.remoteTopic) continue
        this.refusedForGood(entry, new MessageRefusal(refused.reason, true))
        deadLettered++
      }
    }
    const back = [...this.inflight]
    this.inflight.clear()
    this.inflightBytes = 0
    this.queue.requeue(back)
    return deadLettered
  }

  /** Consumes from another queue object (the queue was declared anew after an operator deleted it). */
  rebind(queue: Queue): void {
    this.queue = queue
    this.reservedSeq = 0
    this.reservingSeq = 0
  }

  hasCredit(): boolean {
    if (this.link === null || this.inflight.size >= this.window) return false
    if (this.opts.bucket !== null && !this.opts.bucket.available()) {
      this.armRateTimer(this.opts.bucket)
      return false
    }
    return true
  }

  deliver(entry: QueueEntry): void {
    const link = this.link as RemoteLink // hasCredit() said so just before
    if (forwardDecision(entry.message, this.opts.bridgeName, link.remoteNodeId) !== 'forward') {
      this.opts.counters.loopsSkipped.inc()
      this.queue.settle(entry, 'acked')
      this.opts.onSettled()
      return
    }
    this.inflight.add(entry)
    this.inflightBytes += entry.message.bodyBytes
    // Refused here, before it counts as forwarded or takes a token: it will not be sent.
    const refusal = this.localRefusal(entry.message)
    if (refusal !== null) {
      this.refusedForGood(entry, refusal)
      return
    }
    this.opts.bucket?.take()
    if (entry.seq <= this.reservedSeq && this.waiting.length === 0) this.send(entry, link)
    else this.waiting.push(entry)
    this.reserveAhead(entry.seq)
  }

  cancelledByQueue(): void {
    this.link = null
    this.inflight.clear()
    this.inflightBytes = 0
    this.onQueueGone()
  }

  /** The oldest message in flight, or undefined. */
  oldestInflight(): QueueEntry | undefined {
    for (const e of this.inflight) return e
    return undefined
  }

  /**
   * Keeps the committed watermark at least a window ahead of what is handed out: one multiple
   * confirm can free the whole window, and what it lets out goes at once only if the watermark
   * already covers it (with half a window, bench bridge-uplink held 5-15% of the entries back for a
   * commit). Asked for when less than a window is left, up to two ahead: one write per window.
   */
  private reserveAhead(seq: number): void {
    if (this.reservingSeq !== 0 || seq + this.window <= this.reservedSeq) return
    const upTo = seq + 2 * this.window
    const queue = this.queue
    this.reservingSeq = upTo
    this.opts.reserveDelivered(queue, upTo).then(
      () => {
        if (this.queue !== queue) return
        this.reservedSeq = Math.max(this.reservedSeq, upTo)
        this.reservingSeq = 0
        this.sendWaiting()
      },
      err => {
        this.reservingSeq = 0
        const link = this.link
        if (link !== null) this.opts.onRefused(link, new Error(`store: ${(err as Error).message}`))
      }
    )
  }

  private sendWaiting(): void {
    const link = this.link
    if (link === null) return
    let i = 0
    for (; i < this.waiting.length; i++) {
      const entry = this.waiting[i] as QueueEntry
      if (entry.seq > this.reservedSeq) break
      if (this.inflight.has(entry)) this.send(entry, link)
    }
    this.waiting = this.waiting.slice(i)
    const next = this.waiting[0]
    if (next !== undefined) this.reserveAhead(next.seq)
  }

  private send(entry: QueueEntry, link: RemoteLink): void {
    const m = entry.message
    const topic = this.remoteTopic(m)
    const nowMs = this.opts.clock.nowMs()
    // Asked again: the remote's size limit or a refused topic may have been learned while the entry
    // waited (its headers, and so its hops, have not changed); and the link's own limits (an MQTT
    // remote's Maximum Packet Size), which only the link can measure.
    const refusal = this.knownRefusal(m) ?? link.unsendable?.(topic, m, nowMs) ?? null
    if (refusal !== null) {
      this.refusedForGood(entry, refusal)
      return
    }
    // Counted here, not at deliver(), and only for what the link sends: an entry refused before
    // sending is dead-lettered, not forwarded. Its redelivered flag is as the queue handed it out
    // (only a requeue sets it, and that takes it out of flight).
    this.opts.counters.forwarded.inc()
    if (entry.redelivered) this.opts.counters.redelivered.inc()
    link.send(topic, m, nowMs, entry).then(
      () => this.confirmed(entry),
      err => {
        if (this.link !== link) return
        if (isPermanentRefusal(err)) this.refusedForGood(entry, err)
        else this.opts.onRefused(link, err as Error)
      }
    )
  }

  /** Why a message is dead-lettered without being sent: over hopsMax, or refused by what is known of the remote. */
  private localRefusal(m: Message): MessageRefusal | null {
    const hopProblem = hopLimitProblem(m.properties.headers, this.opts.hopsMax)
    return hopProblem !== null ? new MessageRefusal(hopProblem, true) : this.knownRefusal(m)
  }

  /** Over the remote's known size, or to a topic the remote refuses now. */
  private knownRefusal(m: Message): MessageRefusal | null {
    const bodyBytesMax = this.opts.remoteBodyBytesMax()
    if (bodyBytesMax > 0 && m.bodyBytes > bodyBytesMax)
      return new MessageRefusal(`body of ${m.bodyBytes} bytes is larger than the remote's max size ${bodyBytesMax}`, true)
    const refused = this.opts.refusedTopic(this.remoteTopic(m))
    return refused === null ? null : new MessageRefusal(refused, true)
  }

  /** The message's topic at the remote (MQTT form): the out prefix mapping applied. */
  private remoteTopic(m: Message): string {
    return outboundTopic(routingKeyToTopic(m.routingKey), this.opts.out)
  }

  /**
   * Out of the window at once (it is not given back if the link is lost meanwhile), settled once
   * its dead-letter copy is committed; if that fails it goes back to the queue, to be sent again.
   */
  private refusedForGood(entry: QueueEntry, err: Error): void {
    if (!this.inflight.delete(entry)) return
    this.inflightBytes -= entry.message.bodyBytes
    const queue = this.queue
    this.opts.deadLetter(entry, err.message).then(
      () => {
        queue.settle(entry, 'acked')
        this.opts.counters.deadLettered.inc()
        this.opts.onDeadLettered(entry, err.message)
        this.opts.onSettled()
        queue.dispatch()
      },
      (storeErr: unknown) => {
        queue.requeue([entry])
        const link = this.link
        if (link !== null) this.opts.onRefused(link, new Error(`dead-letter a refused message: ${(storeErr as Error).message}`))
      }
    )
    this.queue.dispatch()
  }

  private confirmed(entry: QueueEntry): void {
    if (!this.inflight.delete(entry)) return // given back already (the link was lost first)
    this.inflightBytes -= entry.message.bodyBytes
    this.queue.settle(entry, 'acked')
    this.opts.counters.confirmed.inc()
    this.opts.onConfirmed()
    this.opts.onSettled()
    this.queue.dispatch()
  }

  private armRateTimer(bucket: TokenBucket): void {
    if (this.rateTimer !== null) return
    this.rateTimer = this.opts.clock.setTimer(
      () => {
        this.rateTimer = null
        this.queue.dispatch()
      },
      Math.max(1, bucket.msUntilToken())
    )
  }
}
