// MQTT shared subscriptions ($share/<group>/<filter>) on the core model: one durable core queue per
// group and filter (`mqtt-share/<group>/<filter>`, bound on the MQTT exchange), whose consumers are
// the group's sessions — and any AMQP consumer of that queue, which competes with them. A member
// shares its session's outbound window; one that goes away gives its unsettled deliveries back.
import type { Queue, QueueConsumer } from '../../core/model/queue.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import type { MqttSession } from './session.ts'
import { filterToBindingKey, sharedQueueName, type SharedFilter } from './topic-grammar.ts'

const OWNER = {}

/** Before the SUBACK: the group's queue exists and is bound, so nothing published after it is missed. */
export async function prepareSharedQueue(vhost: Vhost, exchange: string, shared: SharedFilter): Promise<void> {
  const name = sharedQueueName(shared)
  if (vhost.queueNamed(name) === undefined) {
    await vhost.declareQueue({ name, durable: true, exclusive: false, autoDelete: false, arguments: {} }, OWNER, false, true)
  }
  await vhost.bindQueue(name, exchange, filterToBindingKey(shared.filter), {}, OWNER)
}

export class SharedMembership implements QueueConsumer {
  readonly noAck = false
  readonly exclusive = false
  readonly tag: string
  queue: Queue | undefined = undefined

  constructor(
    private readonly session: MqttSession,
    private readonly vhost: Vhost,
    /** The whole `$share/...` filter as subscribed. */
    readonly filter: string,
    readonly shared: SharedFilter,
    readonly qos: 0 | 1 | 2,
    readonly subscriptionId: number | undefined,
    /** Retain As Published: a delivery keeps the RETAIN flag it was published with [MQTT-3.3.1-13]. */
    readonly retainAsPublished: boolean
  ) {
    this.tag = `mqtt:${session.clientId}:${filter}`
  }

  hasCredit(): boolean {
    return this.session.hasCredit()
  }

  deliver(entry: QueueEntry, redelivered: boolean): void {
    this.session.deliverShared(entry, redelivered, this)
  }

  cancelledByQueue(): void {
    this.queue = undefined
  }

  /** A member shares its session's outbound window. */
  creditWindow(): { unacked: number; max: number } {
    return this.session.creditWindow()
  }

  /** Consumes from the group's queue (after SUBACK, or when the session's connection returns). */
  attach(): void {
    if (this.queue !== undefined) return
    const q = this.vhost.queueNamed(sharedQueueName(this.shared))
    if (q === undefined) return // deleted by an operator: the membership waits for a new SUBSCRIBE
    this.queue = this.vhost.consume(q.name, this, OWNER)
    q.dispatch()
  }

  /**
   * Stops consuming. Of what is in flight from the group: when the connection is lost, QoS 1
   * deliveries not acknowledged go back to the group (§4.8.2 allows it at once) and QoS 2 ones
   * stay with the session, completed when the client returns [MQTT-4.8.2-4]; after UNSUBSCRIBE
   * (or a new SUBSCRIBE of the filter) all stay and complete [MQTT-3.10.4-3].
   */
  detach(why: 'connection-lost' | 'unsubscribed'): void {
    const q = this.queue
    if (q === undefined) return
    this.queue = undefined
    this.vhost.cancel(q, this)
    if (why === 'unsubscribed') return
    const back: QueueEntry[] = []
    for (const [id, f] of this.session.inflight) {
      if (f.stage !== 'publish' || f.qos === 2 || f.entry.queue !== q) continue
      this.session.inflight.delete(id)
      back.push(f.entry)
    }
    q.requeue(back)
  }
}
