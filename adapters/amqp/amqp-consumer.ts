// A basic.consume subscription: the core's QueueConsumer with AMQP's credit rules behind
// hasCredit() — the consumer's own prefetch (basic.qos global=false, as RabbitMQ), the channel's
// shared prefetch (global=true), channel.flow, and the socket's write backlog.
import type { ConsumerWindow, Queue, QueueConsumer } from '../../core/model/queue.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'

export interface ConsumerChannel {
  /** Room under the channel-wide prefetch and flow, and a socket that is not congested. */
  channelHasCredit(): boolean
  /** basic.qos global=true: the channel's shared window (max 0 = none). */
  channelWindow(): ConsumerWindow
  deliverToConsumer(consumer: AmqpConsumer, entry: QueueEntry, redelivered: boolean): void
  consumerCancelledByQueue(consumer: AmqpConsumer): void
}

export class AmqpConsumer implements QueueConsumer {
  /** Deliveries to this consumer not acked yet. */
  unacked = 0
  queue: Queue | undefined

  constructor(
    readonly tag: string,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    /** basic.qos prefetch-count with global=false at consume time; 0 = unlimited. */
    readonly prefetchCount: number,
    private readonly channel: ConsumerChannel
  ) {}

  hasCredit(): boolean {
    // No-ack deliveries are not limited by prefetch, only by the socket (as RabbitMQ).
    if (!this.noAck && this.prefetchCount > 0 && this.unacked >= this.prefetchCount) return false
    return this.channel.channelHasCredit()
  }

  deliver(entry: QueueEntry, redelivered: boolean): void {
    this.channel.deliverToConsumer(this, entry, redelivered)
  }

  cancelledByQueue(): void {
    this.channel.consumerCancelledByQueue(this)
  }

  creditWindow(): ConsumerWindow {
    if (this.noAck) return { unacked: 0, max: 0 }
    if (this.prefetchCount > 0) return { unacked: this.unacked, max: this.prefetchCount }
    return this.channel.channelWindow()
  }
}
