import type { ConfirmChannel, Options } from 'amqplib'
import { encodePayload, monotonicMs } from './payload.ts'

/** What one AMQP publisher sends: `messages` persistent messages to `queue` through the default exchange. */
export interface ConfirmPlan {
  readonly queue: string
  /** Publish to this exchange with `queue` as the routing key instead (cross-protocol: amq.topic). */
  readonly exchange?: string
  readonly publisherId: number
  readonly messages: number
  /** Stop publishing (then wait for the outstanding confirms) at this monotonic ms. */
  readonly deadlineMs: number
  readonly payloadBytes: number
}

export interface ConfirmOutcome {
  readonly sent: number
  readonly confirmed: number
  readonly nacked: number
  readonly startMs: number
  readonly endMs: number
  /** Publish-to-confirm ms of every confirmed message. */
  readonly confirmLatenciesMs: Float64Array
}

/** deliveryMode 2: the broker must have the message on disk before it confirms it. */
const PERSISTENT: Options.Publish = { persistent: true }

/** A QoS-1-style window refilled once half of it is confirmed, as the MQTT publishers do (publish-loops.ts). */
const REFILL_AT_FRACTION = 0.5
const RATE_TICK_MS = 1

/**
 * The messages one confirm channel has out. The payload carries the send time for end-to-end
 * latency; the confirm callback's time minus the publish time is the confirm latency.
 * A channel closed under outstanding messages calls back with an error too: counted as nacked
 * here, and reported by the channel's error event.
 */
class ConfirmWindow {
  sent = 0
  confirmed = 0
  nacked = 0
  readonly startMs = monotonicMs()
  private readonly sentAtMs: Float64Array
  private readonly latencies: Float64Array
  private samples = 0

  constructor(
    private readonly channel: ConfirmChannel,
    private readonly plan: ConfirmPlan,
    private readonly onSettled: () => void
  ) {
    this.sentAtMs = new Float64Array(plan.messages)
    this.latencies = new Float64Array(plan.messages)
  }

  get outstanding(): number {
    return this.sent - this.confirmed - this.nacked
  }

  get allSent(): boolean {
    return this.sent >= this.plan.messages
  }

  publish(): void {
    const seq = this.sent++
    this.sentAtMs[seq] = monotonicMs()
    const payload = encodePayload(this.plan.payloadBytes, this.plan.publisherId, seq, process.hrtime.bigint())
    // The return value is amqplib's channel buffer above its high-water mark (1,024 frames); the
    // window keeps far fewer than that outstanding, so it is not waited on.
    // The default exchange ('') routes to the queue named by the routing key: sendToQueue.
    this.channel.publish(this.plan.exchange ?? '', this.plan.queue, payload, PERSISTENT, (err: unknown) => {
      if (err === null || err === undefined) {
        this.confirmed++
        this.latencies[this.samples++] = monotonicMs() - (this.sentAtMs[seq] ?? 0)
      } else {
        this.nacked++
      }
      this.onSettled()
    })
  }

  outcome(): ConfirmOutcome {
    return {
      sent: this.sent,
      confirmed: this.confirmed,
      nacked: this.nacked,
      startMs: this.startMs,
      endMs: monotonicMs(),
      confirmLatenciesMs: this.latencies.subarray(0, this.samples)
    }
  }
}

/**
 * As fast as confirms come back, with at most `inflight` unconfirmed: the window is topped up in
 * the event loop's check phase once half of it is confirmed, so publishes leave in batches.
 */
export function publishConfirmed(channel: ConfirmChannel, plan: ConfirmPlan, inflight: number): Promise<ConfirmOutcome> {
  return new Promise(resolve => {
    let stopped = false
    let refillScheduled = false
    const refillAtOutstanding = Math.floor(inflight * REFILL_AT_FRACTION)
    const finishIfDone = (): boolean => {
      if (confirmWindow.outstanding > 0 || !(stopped || confirmWindow.allSent)) return false
      resolve(confirmWindow.outcome())
      return true
    }
    const refill = (): void => {
      refillScheduled = false
      if (monotonicMs() >= plan.deadlineMs) stopped = true
      while (!stopped && confirmWindow.outstanding < inflight && !confirmWindow.allSent) confirmWindow.publish()
      finishIfDone()
    }
    const onSettled = (): void => {
      if (finishIfDone() || refillScheduled || confirmWindow.outstanding > refillAtOutstanding) return
      refillScheduled = true
      setImmediate(refill)
    }
    const confirmWindow = new ConfirmWindow(channel, plan, onSettled)
    refill()
  })
}

/** Message n at start + n/rate; when the window is full, late messages go as soon as a slot frees. */
export function publishConfirmedAtRate(channel: ConfirmChannel, plan: ConfirmPlan, inflight: number, ratePerS: number): Promise<ConfirmOutcome> {
  return new Promise(resolve => {
    let stopped = false
    const finishIfDone = (): void => {
      if (confirmWindow.outstanding > 0 || !(stopped || confirmWindow.allSent)) return
      clearInterval(timer)
      resolve(confirmWindow.outcome())
    }
    const tick = (): void => {
      const nowMs = monotonicMs()
      if (nowMs >= plan.deadlineMs) stopped = true
      const due = Math.min(plan.messages, Math.floor(((nowMs - confirmWindow.startMs) * ratePerS) / 1000) + 1)
      while (!stopped && confirmWindow.sent < due && confirmWindow.outstanding < inflight) confirmWindow.publish()
      finishIfDone()
    }
    const confirmWindow = new ConfirmWindow(channel, plan, finishIfDone)
    const timer = setInterval(tick, RATE_TICK_MS)
    tick()
  })
}
