// The uplink: the one consumer of a bridge's queue. It takes entries in queue order while its link
// is up and its window (and the rate cap) allow, sends them, and settles (deletes) each only when
// the remote confirmed it. A lost link gives every unconfirmed entry back to the queue, in its place
// and marked redelivered, so the next link sends the backlog first and in order.
//
// An entry is sent only once the queue's delivered watermark covering it is committed (one store
// barrier per batch): after a crash every entry that may have reached the remote comes back marked
// redelivered, so the duplicates a crash can cause are exactly the ones counted.
import type { Clock, TimerHandle } from '../../core/clock.ts'
import type { Counter } from '../../core/metrics.ts'
import type { Queue, QueueConsumer } from '../../core/model/queue.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { BridgeDirectionConfig } from '../../edge-config/config-types.ts'
import { routingKeyToTopic } from '../mqtt/topic-grammar.ts'
import { forwardDecision, upHeaders } from './loop-marks.ts'
import type { RemoteLink } from './links/link.ts'
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
}

export interface ForwarderOptions {
  readonly bridgeName: string
  readonly nodeId: string
  readonly out: BridgeDirectionConfig
  readonly clock: Clock
  /** null: no rate cap. */
  readonly bucket: TokenBucket | null
  readonly counters: ForwarderCounters
  /** Settles once every store write asked for before it is committed. */
  readonly commitBarrier: () => Promise<void>
  /** An entry left the backlog (confirmed or skipped). */
  readonly onSettled: () => void
  /** The remote confirmed a message: the link works. */
  readonly onConfirmed: () => void
  /** The remote refused a message on a link that is still up (or the barrier failed): the bridge ends the link. */
  readonly onRefused: (link: RemoteLink, err: Error) => void
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
  private batch: QueueEntry[] | null = null
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

  /** Starts sending on a new link: the backlog first, as the queue holds it in order. */
  attach(link: RemoteLink): void {
    this.link = link
    this.window = link.windowMax
    this.queue.dispatch()
  }

  /** The link is gone: what it did not confirm goes back to the queue, in place, marked redelivered. */
  detach(): void {
    this.link = null
    this.batch = null
    if (this.rateTimer !== null) {
      this.opts.clock.clearTimer(this.rateTimer)
      this.rateTimer = null
    }
    const back = [...this.inflight]
    this.inflight.clear()
    this.inflightBytes = 0
    this.queue.requeue(back)
  }

  /** Consumes from another queue object (the queue was declared anew after an operator deleted it). */
  rebind(queue: Queue): void {
    this.queue = queue
  }

  hasCredit(): boolean {
    if (this.link === null || this.inflight.size >= this.window) return false
    if (this.opts.bucket !== null && !this.opts.bucket.available()) {
      this.armRateTimer(this.opts.bucket)
      return false
    }
    return true
  }

  deliver(entry: QueueEntry, redelivered: boolean): void {
    const link = this.link as RemoteLink // hasCredit() said so just before
    if (forwardDecision(entry.message, this.opts.bridgeName, link.remoteNodeId) !== 'forward') {
      this.opts.counters.loopsSkipped.inc()
      this.queue.settle(entry, 'acked')
      this.opts.onSettled()
      return
    }
    this.opts.bucket?.take()
    this.inflight.add(entry)
    this.inflightBytes += entry.message.bodyBytes
    this.opts.counters.forwarded.inc()
    if (redelivered) this.opts.counters.redelivered.inc()
    let batch = this.batch
    if (batch === null) {
      // Everything handed out in this turn of the event loop waits for one barrier, asked for after
      // the queue marked them delivered; the next turn starts a new batch.
      const b: QueueEntry[] = []
      batch = b
      this.batch = b
      queueMicrotask(() => {
        if (this.batch === b) this.batch = null
      })
      this.opts.commitBarrier().then(
        () => this.sendBatch(b, link),
        err => this.opts.onRefused(link, new Error(`store: ${(err as Error).message}`))
      )
    }
    batch.push(entry)
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

  private sendBatch(batch: readonly QueueEntry[], link: RemoteLink): void {
    if (this.link !== link) return // the link went meanwhile: detach() gave these back
    const { out, nodeId, clock } = this.opts
    for (const entry of batch) {
      if (!this.inflight.has(entry)) continue
      const m = entry.message
      link.send(outboundTopic(routingKeyToTopic(m.routingKey), out), m, upHeaders(m.properties.headers, nodeId), clock.nowMs()).then(
        () => this.confirmed(entry),
        err => {
          if (this.link === link) this.opts.onRefused(link, err as Error)
        }
      )
    }
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
