// One AMQP channel: content assembly, consumers and their deliveries, delivery tags and acks,
// prefetch, flow, confirm and tx mode. Method handlers (handlers/*.ts) act on it; the connection
// feeds it frames and closes it.
import type { Queue } from '../../core/model/queue.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { Message } from '../../core/model/message.ts'
import { Methods, type DecodedMethod, type FieldsOf, type MethodId } from './codec/amqp-defs.ts'
import { PRECONDITION_FAILED } from './codec/reply-codes.ts'
import type { Frame } from './codec/frame-reader.ts'
import { AmqpException } from './amqp-errors.ts'
import type { AmqpConsumer, ConsumerChannel } from './amqp-consumer.ts'
import { ContentAssembler, type Content } from './content-assembler.ts'
import { ConfirmTracker } from './confirm-tracker.ts'
import type { AmqpConnection } from './connection.ts'
import { MessageCounts } from '../../core/metering/message-counts.ts'
import { asDelivered } from './delivery-count.ts'

interface Unacked {
  readonly entry: QueueEntry
  /** null for basic.get deliveries. */
  readonly consumer: AmqpConsumer | null
}

/** tx.select mode: publishes and settlements held until tx.commit. */
export interface TxState {
  publishes: Array<{ exchange: string; message: Message; mandatory: boolean }>
  settlements: Array<() => void>
  /** Delivery tags a held settlement names: no longer outstanding for the acks after it (RabbitMQ takes them at the ack). */
  heldTags: Set<number>
}

export class AmqpChannel implements ConsumerChannel {
  state: 'open' | 'closing' = 'open'
  /** channel.flow from the client: false stops deliveries. */
  flowActive = true
  readonly assembler: ContentAssembler
  /** The content method (basic.publish) whose header and body frames are being read. */
  contentMethod: DecodedMethod | undefined
  readonly consumers = new Map<string, AmqpConsumer>()
  /** Outstanding deliveries by delivery tag, in tag order (Map keeps insertion order). */
  readonly unacked = new Map<number, Unacked>()
  private nextDeliveryTag = 1
  /** basic.qos global=false: prefetch of consumers created from now on. */
  consumerPrefetch = 0
  /** basic.qos global=true: shared by every consumer of the channel. */
  channelPrefetch = 0
  /** Deliveries to consumers (ack mode) not yet settled, for channelPrefetch. */
  private consumerUnacked = 0
  confirm: ConfirmTracker | undefined
  tx: TxState | undefined
  /** The queue named by the last queue.declare, for methods that leave the queue name empty. */
  mostRecentQueue = ''
  /** This channel's message counts; each is counted on the connection's too (which outlives channels). */
  readonly messages = new MessageCounts()
  private consumerTagCounter = 0

  constructor(
    readonly id: number,
    readonly conn: AmqpConnection
  ) {
    this.assembler = new ContentAssembler(conn.ctx.limits.maxMessageBytes)
  }

  send<I extends MethodId>(id: I, fields: FieldsOf<I>): void {
    this.conn.sendMethod(this.id, id, fields)
  }

  // ---- frames ---------------------------------------------------------------------------------

  beginContent(method: DecodedMethod): void {
    this.contentMethod = method
    this.assembler.begin(method.id)
  }

  /** Feeds content frames; returns the finished content when the last body frame arrived. */
  pushContent(frame: Frame): Content | undefined {
    const assembled = this.assembler.push(frame)
    return assembled.done ? assembled.content : undefined
  }

  // ---- consumers ------------------------------------------------------------------------------

  newConsumerTag(): string {
    return `amq.ctag-${this.conn.id}.${this.id}.${++this.consumerTagCounter}`
  }

  channelHasCredit(): boolean {
    if (!this.flowActive || this.state !== 'open' || this.conn.output.congested) return false
    return this.channelPrefetch === 0 || this.consumerUnacked < this.channelPrefetch
  }

  channelWindow(): { unacked: number; max: number } {
    return { unacked: this.consumerUnacked, max: this.channelPrefetch }
  }

  deliverToConsumer(consumer: AmqpConsumer, entry: QueueEntry, redelivered: boolean): void {
    const tag = this.nextDeliveryTag++
    if (!consumer.noAck) {
      this.unacked.set(tag, { entry, consumer })
      consumer.unacked++
      this.consumerUnacked++
    }
    const m = entry.message
    try {
      this.conn.sendContent(
        this.id,
        Methods.BasicDeliver,
        { consumerTag: consumer.tag, deliveryTag: tag, redelivered, exchange: m.exchange, routingKey: m.routingKey },
        asDelivered(entry)
      )
    } catch (err) {
      // Called from whichever connection's publish dispatched the queue: a delivery this consumer's
      // connection cannot carry (a header over its frame-max) closes this connection, not that one.
      // The entry is registered as unacked above, so closing requeues it.
      this.conn.fail(err, undefined, Methods.BasicDeliver)
      return
    }
    this.conn.counters.delivered.inc()
    this.conn.usage.messagesOut++
    this.conn.usage.bytesOut += m.body.length
    const own = this.messages
    const all = this.conn.messages
    if (consumer.noAck) {
      own.deliverNoAck++
      all.deliverNoAck++
    } else {
      own.deliver++
      all.deliver++
    }
    if (redelivered) {
      own.redeliver++
      all.redeliver++
    }
  }

  /** basic.get-ok: the entry is handed out (ack mode) under a new delivery tag. */
  deliverGet(entry: QueueEntry, noAck: boolean, redelivered: boolean, messageCount: number): void {
    const tag = this.nextDeliveryTag++
    if (!noAck) this.unacked.set(tag, { entry, consumer: null })
    const m = entry.message
    this.conn.sendContent(
      this.id,
      Methods.BasicGetOk,
      { deliveryTag: tag, redelivered, exchange: m.exchange, routingKey: m.routingKey, messageCount },
      asDelivered(entry)
    )
    this.conn.counters.delivered.inc()
    this.conn.usage.messagesOut++
    this.conn.usage.bytesOut += m.body.length
    const own = this.messages
    const all = this.conn.messages
    if (noAck) {
      own.getNoAck++
      all.getNoAck++
    } else {
      own.get++
      all.get++
    }
    if (redelivered) {
      own.redeliver++
      all.redeliver++
    }
  }

  consumerCancelledByQueue(consumer: AmqpConsumer): void {
    this.consumers.delete(consumer.tag)
    // [RabbitMQ consumer_cancel_notify] only to clients that said they understand it
    if (this.state === 'open' && this.conn.consumerCancelNotify) this.send(Methods.BasicCancel, { consumerTag: consumer.tag, nowait: true })
  }

  cancelConsumer(consumer: AmqpConsumer): void {
    this.consumers.delete(consumer.tag)
    const q = consumer.queue
    if (q !== undefined) this.conn.vhostOrThrow().cancel(q, consumer)
  }

  // ---- settlements ----------------------------------------------------------------------------

  /**
   * The deliveries one basic.ack / nack / reject names. As RabbitMQ (collect_acks), the tag itself
   * must be outstanding, with multiple too (only multiple with tag 0 means "all"): otherwise 406,
   * and nothing is settled.
   */
  takeUnacked(deliveryTag: number, multiple: boolean, methodId: number): Unacked[] {
    if (multiple && deliveryTag === 0) {
      const all = [...this.unacked.values()]
      this.unacked.clear()
      return all
    }
    const named = this.unacked.get(deliveryTag)
    if (named === undefined) throw new AmqpException(PRECONDITION_FAILED, `unknown delivery tag ${deliveryTag}`, methodId)
    if (!multiple) {
      this.unacked.delete(deliveryTag)
      return [named]
    }
    const taken: Unacked[] = []
    for (const [tag, u] of this.unacked) {
      if (tag > deliveryTag) break
      taken.push(u)
      this.unacked.delete(tag)
    }
    return taken
  }

  /** Acks (or rejects without requeue) and lets consumers with new credit take more. */
  settle(taken: readonly Unacked[], how: 'acked' | 'rejected'): void {
    if (how === 'acked') {
      this.messages.ack += taken.length
      this.conn.messages.ack += taken.length
    }
    for (const u of taken) {
      this.released(u)
      u.entry.queue.settle(u.entry, how)
    }
    this.redispatch(taken)
  }

  requeue(taken: readonly Unacked[]): void {
    const byQueue = new Map<Queue, QueueEntry[]>()
    for (const u of taken) {
      this.released(u)
      let list = byQueue.get(u.entry.queue)
      if (list === undefined) {
        list = []
        byQueue.set(u.entry.queue, list)
      }
      list.push(u.entry)
    }
    for (const [q, entries] of byQueue) q.requeue(entries)
    this.redispatch(taken)
  }

  /** Every consumer of the channel may have credit again (flow on, socket drained, global qos). */
  redispatchAll(): void {
    const queues = new Set<Queue>()
    for (const c of this.consumers.values()) if (c.queue !== undefined) queues.add(c.queue)
    for (const q of queues) q.dispatch()
  }

  private released(u: Unacked): void {
    if (u.consumer === null) return
    u.consumer.unacked--
    this.consumerUnacked--
  }

  private redispatch(taken: readonly Unacked[]): void {
    if (this.channelPrefetch > 0) {
      this.redispatchAll()
      return
    }
    const queues = new Set<Queue>()
    for (const u of taken) if (u.consumer?.queue !== undefined) queues.add(u.consumer.queue)
    for (const q of queues) q.dispatch()
  }

  // ---- confirms -------------------------------------------------------------------------------

  enableConfirms(): void {
    this.confirm ??= new ConfirmTracker((outcome, deliveryTag, multiple) => {
      if (this.state !== 'open') return
      if (outcome === 'ack') this.send(Methods.BasicAck, { deliveryTag, multiple })
      else this.send(Methods.BasicNack, { deliveryTag, multiple, requeue: false })
    })
  }

  // ---- shutdown -------------------------------------------------------------------------------

  /** Channel closed (either side) or connection gone: consumers cancelled, unacked requeued. */
  tearDown(): void {
    this.state = 'closing'
    const vhost = this.conn.vhost
    for (const c of this.consumers.values()) {
      if (c.queue !== undefined && vhost !== undefined) vhost.cancel(c.queue, c)
    }
    this.consumers.clear()
    const all = [...this.unacked.values()]
    this.unacked.clear()
    this.requeue(all)
    this.tx = undefined
    this.contentMethod = undefined
    this.assembler.reset()
  }
}
