// Flow (RabbitMQ's word for it): a queue whose consumers fall behind its publishers holds back the
// acknowledgements those publishers wait for (MQTT PUBACK / PUBREC, AMQP publisher confirms), so
// that publishers with a bounded window slow down to what the consumers take instead of filling
// the queue. Without it, on a machine short of CPU the publishers, acked at once, take the CPU the
// consumer needs: a subscriber bound to 100 messages in flight got 26,000 msg/s while Wharf took
// 69,000 from four publishers, and the backlog paged out to be read back later (bench/README.md,
// stop 35). Publishers that wait for no acknowledgement (MQTT QoS 0, AMQP without confirms) are
// not slowed: nothing of theirs is held, and a connection's reads never stop, so a client that
// publishes and consumes on one connection still gets its deliveries and sends its acks.
//
// Flow starts when a queue whose consumers have messages in flight (they are taking them: a bridge
// whose link is down has none) has more than storage.flowStartMessages ready, a few hundred as
// RabbitMQ's credit flow lets a publisher run ahead of a queue, and ends when they are down to half
// of it, or the last consumer left, or the queue went. A consumer that cannot bring the backlog down
// within storage.flowHoldMaxMs is slow for reasons of its own (a dashboard reading 10 messages a
// second): the held acknowledgements go, and the queue puts no one in flow again until it is back
// down to half. So one slow subscriber delays its publishers by that much once, and never throttles
// them to its own pace.
import type { Clock, TimerHandle } from '../clock.ts'

export interface QueueFlowSettings {
  /** storage.flowStartMessages: ready messages above which a consumed queue holds its publishers; it lets go at half. */
  readonly startMessages: number
  /** storage.flowHoldMaxMs: the longest an acknowledgement waits for a queue in flow. */
  readonly holdMaxMs: number
  readonly clock: Clock
}

export type FlowEnd = 'caught-up' | 'gave-up'

export class QueueFlow {
  private held: Promise<void> | undefined = undefined
  private release: (() => void) | undefined = undefined
  private timer: TimerHandle | undefined = undefined
  /** Flow gave up on these consumers; no flow again until the backlog is down to endMessages. */
  private gaveUp = false

  private readonly endMessages: number

  constructor(
    private readonly settings: QueueFlowSettings,
    /** Told when a flow episode ends: for the counts. */
    private readonly ended: (how: FlowEnd) => void
  ) {
    this.endMessages = settings.startMessages >>> 1
  }

  get active(): boolean {
    return this.held !== undefined
  }

  /** Whether a lower backlog would change anything: flow is on, or gave up and waits to re-arm. */
  get watching(): boolean {
    return this.held !== undefined || this.gaveUp
  }

  /** After a publish into the queue: what its acknowledgement waits for, or undefined. */
  hold(readyMessages: number, consumers: number, inFlight: number): Promise<void> | undefined {
    if (this.held !== undefined) return this.held
    if (this.gaveUp || consumers === 0 || inFlight === 0 || readyMessages <= this.settings.startMessages) return undefined
    this.held = new Promise<void>(resolve => {
      this.release = resolve
    })
    this.timer = this.settings.clock.setTimer(() => {
      this.timer = undefined
      this.gaveUp = true
      this.end('gave-up')
    }, this.settings.holdMaxMs)
    return this.held
  }

  /** The backlog went down, or the consumers changed: flow ends once the consumers caught up. */
  eased(readyMessages: number, consumers: number): void {
    if (readyMessages > this.endMessages && consumers > 0) return
    this.gaveUp = false
    if (this.held !== undefined) this.end('caught-up')
  }

  /** The queue is gone: nothing waits for it any more. */
  stop(): void {
    if (this.held !== undefined) this.end('caught-up')
  }

  private end(how: FlowEnd): void {
    if (this.timer !== undefined) this.settings.clock.clearTimer(this.timer)
    this.timer = undefined
    const release = this.release
    this.held = undefined
    this.release = undefined
    release?.()
    this.ended(how)
  }
}
