// MQTT shared subscriptions ($share/<group>/<filter>) on the core model: one durable core queue per
// group and filter (`mqtt-share/<group>/<filter>`, bound on the MQTT exchange), whose consumers are
// the group's MQTT clients — and any AMQP consumer of that queue, which competes with them.
// A delivery is settled in core when the client's PUBACK (QoS 1) or PUBCOMP (QoS 2) arrives; a
// client that goes away gives its unsettled deliveries back to the queue, for the next member.
import type { Queue, QueueConsumer } from '../../core/model/queue.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import type { Logger } from '../../core/logger.ts'
import { coreToMqttPublish } from './message-mapping.ts'
import { filterToBindingKey, parseSharedFilter, sharedQueueName, type SharedFilter } from './topic-mapping.ts'

/** The parts of an aedes client a shared delivery uses. */
export interface SharedMember {
  readonly id: string
  readonly closed?: boolean
  _nextId: number
  deliver0 (packet: object, cb: () => void): void
  deliverQoS (packet: object, cb: () => void): void
}

/** The queue owner for declares and consumes made by the MQTT adapter (never exclusive). */
const ADAPTER_OWNER = {}

class SharedConsumer implements QueueConsumer {
  readonly noAck = false
  readonly exclusive = false
  readonly unacked = new Map<number, QueueEntry>()
  queue: Queue | undefined

  constructor (
    readonly tag: string,
    private readonly client: SharedMember,
    private readonly qos: number,
    private readonly maxInflight: number,
    private readonly registry: Map<string, Map<number, SharedConsumer>>
  ) {}

  hasCredit (): boolean {
    return this.client.closed !== true && this.unacked.size < this.maxInflight
  }

  deliver (entry: QueueEntry, redelivered: boolean): void {
    const packet = coreToMqttPublish(entry.message)
    packet.qos = Math.min(packet.qos, this.qos) as 0 | 1 | 2 // [MQTT-3.8.4-6]
    packet.retain = false // [MQTT-3.3.1-9]: not a retained message sent for a new subscription
    if (packet.qos === 0) {
      this.client.deliver0(packet, noop)
      entry.queue.settle(entry, 'acked')
      return
    }
    packet.dup = redelivered
    const messageId = takePacketId(this.client)
    this.unacked.set(messageId, entry)
    let mine = this.registry.get(this.client.id)
    if (mine === undefined) { mine = new Map(); this.registry.set(this.client.id, mine) }
    mine.set(messageId, this)
    this.client.deliverQoS({ ...packet, messageId }, noop)
  }

  cancelledByQueue (): void {
    this.queue = undefined
  }
}

export class SharedSubscriptions {
  /** clientId -> packet id -> the consumer that delivered it, for the persistence hooks. */
  private readonly inflight = new Map<string, Map<number, SharedConsumer>>()
  private readonly consumers = new Map<SharedMember, Map<string, SharedConsumer>>()
  private tags = 0

  constructor (
    private readonly vhost: Vhost,
    private readonly exchange: string,
    private readonly maxInflight: number,
    private readonly log: Logger
  ) {}

  /** Before the SUBACK: the group's queue exists and is bound, so nothing published after it is missed. */
  async prepare (shared: SharedFilter): Promise<void> {
    const name = sharedQueueName(shared)
    if (this.vhost.queueNamed(name) === undefined) {
      await this.vhost.declareQueue({ name, durable: true, exclusive: false, autoDelete: false, arguments: {} }, ADAPTER_OWNER, false)
    }
    await this.vhost.bindQueue(name, this.exchange, filterToBindingKey(shared.filter), {}, ADAPTER_OWNER)
  }

  /** The client now consumes from its group's queue (after SUBACK, or a restored session). */
  attach (client: SharedMember, filter: string, qos: number): void {
    const shared = parseSharedFilter(filter)
    if (shared === null) return
    let mine = this.consumers.get(client)
    if (mine === undefined) { mine = new Map(); this.consumers.set(client, mine) }
    if (mine.has(filter)) return
    const consumer = new SharedConsumer(`mqtt-${client.id}-${++this.tags}`, client, qos, this.maxInflight, this.inflight)
    try {
      consumer.queue = this.vhost.consume(sharedQueueName(shared), consumer, ADAPTER_OWNER)
    } catch (err) {
      this.log.warn('shared subscription: consume failed', { clientId: client.id, filter, reason: (err as Error).message })
      return
    }
    mine.set(filter, consumer)
    consumer.queue.dispatch()
  }

  detach (client: SharedMember, filter: string): void {
    const consumer = this.consumers.get(client)?.get(filter)
    if (consumer === undefined) return
    this.consumers.get(client)?.delete(filter)
    this.release(client, consumer)
  }

  /** The client went away: its consumers go and what it had not acknowledged returns to the queues. */
  detachClient (client: SharedMember): void {
    const mine = this.consumers.get(client)
    if (mine === undefined) return
    this.consumers.delete(client)
    for (const consumer of mine.values()) this.release(client, consumer)
  }

  /** persistence.outgoingUpdate hook: true when the packet id is a shared delivery (nothing to store). */
  owns (clientId: string, messageId: number | undefined): boolean {
    return messageId !== undefined && this.inflight.get(clientId)?.has(messageId) === true
  }

  /** persistence.outgoingClearMessageId hook: settles a shared delivery in core; false when not ours. */
  settle (clientId: string, messageId: number | undefined): boolean {
    if (messageId === undefined) return false
    const mine = this.inflight.get(clientId)
    const consumer = mine?.get(messageId)
    if (mine === undefined || consumer === undefined) return false
    mine.delete(messageId)
    if (mine.size === 0) this.inflight.delete(clientId)
    const entry = consumer.unacked.get(messageId)
    consumer.unacked.delete(messageId)
    if (entry !== undefined) {
      entry.queue.settle(entry, 'acked')
      entry.queue.dispatch()
    }
    return true
  }

  private release (client: SharedMember, consumer: SharedConsumer): void {
    const q = consumer.queue
    const mine = this.inflight.get(client.id)
    for (const id of consumer.unacked.keys()) mine?.delete(id)
    if (mine?.size === 0) this.inflight.delete(client.id)
    const entries = [...consumer.unacked.values()]
    consumer.unacked.clear()
    if (q === undefined) return
    this.vhost.cancel(q, consumer)
    q.requeue(entries)
  }
}

/** The next packet id from the client's own counter, so ids never clash with aedes' deliveries. */
function takePacketId (client: SharedMember): number {
  const id = client._nextId
  client._nextId = id >= 65535 ? 1 : id + 1
  return id
}

function noop (): void {}
