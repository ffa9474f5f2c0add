// An MQTT session on the core model: a queue (`mqtt-session/<client id>`) whose bindings on the
// MQTT exchange are the session's subscriptions, consumed by the session while a connection is
// attached. Its outbound window is consumer credit (Receive Maximum / mqtt.maxInflightMessages),
// kept in outbound-window.ts.
// Subscription options are binding arguments (subscription-arguments.ts), applied here at delivery:
// the QoS, No Local, Retain As Published, and every matching Subscription Identifier [MQTT-3.3.4-3].
import type { Queue, QueueConsumer } from '../../core/model/queue.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { SharedSubscriptionRecord, WillRecord } from './session-store.ts'
import type { SessionHost } from './session-host.ts'
import type { PublishOut } from './codec/packet-writer.ts'
import { filterMatches, sharedQueueName, topicNameProblem } from './topic-grammar.ts'
import { isRetained, mqttQosOf, outboundProperties, topicOf } from './properties.ts'
import type { SharedMembership } from './shared-subscriptions.ts'
import type { RestoredDelivery } from './restored-deliveries.ts'
import { OutboundWindow } from './outbound-window.ts'
import type { Inflight } from './inflight-delivery.ts'
import { optionsOf, subscriptionOf, type Subscription, type SubscriptionOptions } from './subscription-arguments.ts'

export type { SubscriptionOptions } from './subscription-arguments.ts'

const NONE: readonly never[] = []

/** The adapter's owner object for declares, binds and consumes (its queues are never exclusive). */
export const ADAPTER_OWNER = {}

/**
 * The publisher of a message sent to a new subscription because it is retained: it keeps retain=1
 * [MQTT-3.3.1-8] and goes as that subscription's message alone, with its QoS and identifier, not as
 * an overlapping one's that did not ask for it (Retain Handling 2, or one made earlier)
 * [MQTT-3.3.1-11] [MQTT-3.3.4-3] [MQTT-3.8.4-8], as Mosquitto 2 sends it.
 */
export class RetainedCopy {
  constructor(readonly filter: string) {}
}

/** What an attached connection offers the session. */
export interface SessionConnection {
  readonly clientId: string
  readonly protocolVersion: 3 | 4 | 5
  /** The client's Receive Maximum (5.0) or mqtt.maxInflightMessages (3.1.1). */
  readonly sendQuota: number
  /** False while the socket's buffer is full: deliveries wait (nothing is dropped). */
  writable(): boolean
  /** Encodes and sends; false when the packet exceeds the client's Maximum Packet Size [MQTT-3.1.2-24]. */
  sendPublish(p: PublishOut): boolean
  sendPubrel(packetId: number): void
  /** The session's queue went away (deleted by an operator or over AMQP). */
  sessionGone(reason: string): void
}

export class MqttSession implements QueueConsumer {
  readonly noAck = false
  readonly exclusive = false
  readonly tag: string
  conn: SessionConnection | null = null
  /** Non-shared subscriptions by filter, in the order made. */
  readonly subscriptions = new Map<string, Subscription>()
  // The maps below are made on first use: an idle subscriber's session carries none of them.
  private sharedMap: Map<string, SharedMembership> | undefined = undefined
  /** How many $share memberships, without making the map. */
  get sharedCount(): number {
    return this.sharedMap?.size ?? 0
  }
  /** The outbound QoS 1/2 window (outbound-window.ts). */
  private outbound: OutboundWindow | undefined = undefined
  /** Inbound QoS 2 packet ids between PUBREC and PUBREL [MQTT-4.3.3-10]. */
  private qos2Set: Set<number> | undefined
  /** Session Expiry Interval in seconds; null: never. */
  expirySeconds: number | null
  will: WillRecord | undefined = undefined
  willTimer: ReturnType<typeof setTimeout> | undefined = undefined
  expiryTimer: ReturnType<typeof setTimeout> | undefined = undefined
  ended = false

  constructor(
    readonly clientId: string,
    readonly queue: Queue,
    expirySeconds: number | null,
    private readonly host: SessionHost,
    qos2Received?: Set<number>
  ) {
    this.tag = 'mqtt:' + clientId
    this.expirySeconds = expirySeconds
    this.qos2Set = qos2Received
  }

  get durable(): boolean {
    return this.queue.durable
  }

  /** $share memberships by their whole filter. */
  get shared(): Map<string, SharedMembership> {
    return (this.sharedMap ??= new Map())
  }
  /** Memberships, without making the map. */
  get sharedList(): Iterable<SharedMembership> {
    return this.sharedMap?.values() ?? NONE
  }
  /** The outbound QoS 1/2 window, made on first use. */
  private get window(): OutboundWindow {
    return (this.outbound ??= new OutboundWindow(this, this.host))
  }
  /** Outbound QoS 1/2 deliveries by packet id, kept across reconnects [MQTT-4.4.0-1]. */
  get inflight(): Map<number, Inflight> {
    return this.window.inflight
  }
  /** Inbound QoS 2 packet ids between PUBREC and PUBREL [MQTT-4.3.3-10]. */
  get qos2Received(): Set<number> {
    return (this.qos2Set ??= new Set())
  }

  // ---- QueueConsumer (the session queue) ----------------------------------------------------------

  hasCredit(): boolean {
    const c = this.conn
    return c !== null && (this.outbound?.inflight.size ?? 0) < c.sendQuota && c.writable()
  }

  deliver(entry: QueueEntry, redelivered: boolean): void {
    const message = entry.message
    const topic = topicOf(message)
    if (message.publisher instanceof RetainedCopy) {
      this.deliverRetainedCopy(entry, redelivered, topic, message.publisher.filter)
      return
    }
    let qos = -1
    let retainAsPublished = false
    let ids: number[] | undefined
    for (const sub of this.subscriptions.values()) {
      if (!filterMatches(sub.compiled, topic)) continue
      if (sub.noLocal && message.publisher === this) continue // [MQTT-3.8.3-3]
      if (sub.qos > qos) qos = sub.qos
      if (sub.retainAsPublished) retainAsPublished = true
      if (sub.subscriptionId !== undefined) (ids ??= []).push(sub.subscriptionId)
    }
    if (qos < 0) {
      this.host.settle(entry)
      return
    } // no subscription of this session matches (a '$' topic, or No Local)
    const retain = retainAsPublished && isRetained(message)
    this.send(entry, redelivered, topic, Math.min(qos, mqttQosOf(message)) as 0 | 1 | 2, retain, ids)
  }

  private deliverRetainedCopy(entry: QueueEntry, redelivered: boolean, topic: string, filter: string): void {
    const sub = this.subscriptions.get(filter)
    if (sub === undefined) {
      this.host.settle(entry)
      return
    } // unsubscribed since
    const ids = sub.subscriptionId === undefined ? undefined : [sub.subscriptionId]
    this.send(entry, redelivered, topic, Math.min(sub.qos, mqttQosOf(entry.message)) as 0 | 1 | 2, true, ids)
  }

  /**
   * Whether a (non-shared) subscription of this session could match a '$' topic: only a filter that
   * itself starts with '$' can [MQTT-4.7.2-1].
   */
  get subscribesToDollarTopics(): boolean {
    let found = false
    this.subscriptions.forEach((_, filter) => {
      if (filter.startsWith('$')) found = true
    })
    return found
  }

  /** Whether a (non-shared) subscription of this session matches the topic. */
  wants(topic: string): boolean {
    for (const sub of this.subscriptions.values()) if (filterMatches(sub.compiled, topic)) return true
    return false
  }

  /** The outbound window: QoS 1/2 deliveries in flight against the client's Receive Maximum. */
  creditWindow(): { unacked: number; max: number } {
    return { unacked: this.outbound?.inflight.size ?? 0, max: this.conn?.sendQuota ?? 0 }
  }

  cancelledByQueue(): void {
    if (this.ended) return
    this.conn?.sessionGone(`session queue ${this.queue.name} was deleted`)
  }

  /**
   * A shared group's delivery: the membership's QoS, identifier and Retain As Published (RETAIN as
   * published, else 0 [MQTT-3.3.1-12] [MQTT-3.3.1-13]); a group gets no retained messages when it
   * subscribes (§3.3.1.3).
   * DUP 0 even when the group had handed the entry out before: that was to another member, or to
   * this one under another packet id, so this PUBLISH is no retransmission [MQTT-3.3.1-3].
   */
  deliverShared(entry: QueueEntry, redelivered: boolean, m: SharedMembership): void {
    // Only an entry read back at start (so redelivered) can be a delivery from before the restart.
    if (redelivered) {
      const restored = this.host.restoredDeliveries.take(entry)
      if (restored !== undefined) {
        this.handBack(entry, restored)
        return
      }
    }
    const ids = m.subscriptionId === undefined ? undefined : [m.subscriptionId]
    const retain = m.retainAsPublished && isRetained(entry.message)
    this.send(entry, false, topicOf(entry.message), Math.min(m.qos, mqttQosOf(entry.message)) as 0 | 1 | 2, retain, ids)
  }

  private send(entry: QueueEntry, redelivered: boolean, topic: string, qos: 0 | 1 | 2, retain: boolean, ids: number[] | undefined): void {
    // An AMQP publish to the MQTT exchange may carry any routing key: '' ('#' matches it), or one with
    // '+', '#' or U+0000, none of which a PUBLISH may name [MQTT-4.7.3-1] [MQTT-3.3.2-2] [MQTT-1.5.4-2].
    // It leaves this session's queue unsent, as an oversize one does, instead of failing the encoder.
    const problem = topicNameProblem(topic)
    if (problem !== null) {
      this.host.unsendable(this.clientId, topic, problem)
      this.host.settle(entry)
      return
    }
    const conn = this.conn as SessionConnection
    const out = this.publishOut(entry, topic, qos, retain, ids, conn.protocolVersion === 5)
    if (qos === 0) {
      if (!conn.sendPublish(out)) this.host.oversize(this.clientId)
      this.host.settle(entry)
      return
    }
    out.dup = redelivered // [MQTT-3.3.1-1]
    this.window.publish(conn, entry, qos, out, entry.queue === this.queue)
  }

  private publishOut(entry: QueueEntry, topic: string, qos: 0 | 1 | 2, retain: boolean, ids: number[] | undefined, v5: boolean): PublishOut {
    const out: PublishOut = { topic, payload: entry.message.body, qos, retain, dup: false }
    if (v5) {
      const props = outboundProperties(entry.message, this.host.nowMs())
      if (props !== undefined || ids !== undefined) out.properties = ids === undefined ? { ...props } : { ...props, subscriptionIdentifiers: ids }
    }
    return out
  }

  /** A shared group's QoS 2 delivery from before the restart came out of the group's queue (restored-deliveries.ts). */
  private handBack(entry: QueueEntry, d: RestoredDelivery): void {
    const owner = d.session
    if (owner !== undefined && !owner.ended) {
      owner.resumeRestored(entry, d.packetId)
      return
    }
    // Its session ended before the client came back: no other member gets it [MQTT-4.8.2-5].
    this.host.settle(entry)
    this.host.packetIds.deleteOutboundId(entry).catch((err: unknown) => {
      this.host.log.error('mqtt: delete of an outbound packet id failed', { clientId: this.clientId, err })
    })
  }

  /**
   * A group's QoS 2 delivery from before the restart, back in flight under the id it went out
   * under, resent with DUP now or when the client returns [MQTT-4.8.2-4] [MQTT-4.4.0-1]: with its
   * membership's identifier if the session still has it (an UNSUBSCRIBE lets it complete all the same).
   */
  resumeRestored(entry: QueueEntry, packetId: number): void {
    let membership: SharedMembership | undefined
    for (const m of this.sharedList) if (sharedQueueName(m.shared) === entry.queue.name) membership = m
    const ids = membership?.subscriptionId === undefined ? undefined : [membership.subscriptionId]
    const retain = membership?.retainAsPublished === true && isRetained(entry.message)
    // Properties whatever the next connection's version: only MQTT 5 writes them.
    this.window.resumeRestored(entry, packetId, this.publishOut(entry, topicOf(entry.message), 2, retain, ids, true))
  }

  // ---- acknowledgements from the client (outbound-window.ts) ---------------------------------------

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): the delivery is done; false when the id is unknown. */
  completed(packetId: number, stage: 'publish' | 'pubrel'): boolean {
    return this.outbound?.completed(packetId, stage) ?? false
  }

  /** PUBREC: the client has the message; it leaves the queue and PUBREL follows [MQTT-4.3.3-4]. */
  received(packetId: number, failed: boolean): boolean {
    return this.outbound?.received(packetId, failed) ?? false
  }

  /** A place in the window freed: the queue the delivery came from goes first, then the session's others. */
  placeFreed(q: Queue): void {
    q.dispatch()
    if (q !== this.queue) this.queue.dispatch()
    else for (const m of this.sharedList) m.queue?.dispatch()
  }

  // ---- connection ----------------------------------------------------------------------------------

  /** A connection takes the session: its window resends what is unacknowledged, then the queues deliver. */
  attach(conn: SessionConnection): void {
    this.conn = conn
    this.outbound?.resendAll(conn)
    this.host.vhost.consume(this.queue.name, this, ADAPTER_OWNER)
    for (const m of this.sharedList) m.attach()
    this.queue.dispatch()
  }

  /** The connection went: the session keeps its queue and in-flight deliveries; shared groups get theirs back. */
  detach(): void {
    if (this.conn === null) return
    this.conn = null
    if (!this.queue.deleted) this.host.vhost.cancel(this.queue, this)
    for (const m of this.sharedList) m.detach('connection-lost')
  }

  /** The session ended: shared groups get their deliveries in flight back, or lose them (outbound-window.ts). */
  releaseShared(): void {
    this.outbound?.releaseShared()
  }

  /** The socket drained: deliveries that waited for it go on. */
  resume(): void {
    this.queue.dispatch()
    for (const m of this.sharedList) m.queue?.dispatch()
  }

  // ---- subscriptions -------------------------------------------------------------------------------

  /** Binds (or rebinds with new options) before the SUBACK, so nothing published after it is missed. Returns whether it is new. */
  async subscribe(o: SubscriptionOptions): Promise<boolean> {
    const existing = this.subscriptions.get(o.filter)
    const sub = subscriptionOf(o)
    const { vhost, exchange } = this.host
    if (existing !== undefined && JSON.stringify(existing.args) === JSON.stringify(sub.args)) return false
    this.subscriptions.set(o.filter, sub)
    await vhost.bindQueue(this.queue.name, exchange, sub.bindingKey, sub.args, ADAPTER_OWNER)
    // The new binding first, then the old one goes: nothing routed in between is missed.
    if (existing !== undefined) await vhost.unbindQueue(this.queue.name, exchange, existing.bindingKey, existing.args, ADAPTER_OWNER)
    return existing === undefined
  }

  /** Returns whether the filter was subscribed. */
  async unsubscribe(filter: string): Promise<boolean> {
    const existing = this.subscriptions.get(filter)
    if (existing === undefined) return false
    this.subscriptions.delete(filter)
    await this.host.vhost.unbindQueue(this.queue.name, this.host.exchange, existing.bindingKey, existing.args, ADAPTER_OWNER)
    return true
  }

  /** Rebuilds the subscriptions from the queue's bindings (a session restored at start). */
  restoreSubscriptions(): void {
    for (const b of this.queue.inbound) {
      if (b.source.name !== this.host.exchange) continue
      const o = optionsOf(b.arguments)
      if (o !== undefined) this.subscriptions.set(o.filter, subscriptionOf(o))
    }
  }

  /** Start-up: the stored PUBREL-pending ids, in PUBREC order (outbound-window.ts); none makes no window. */
  restorePubrels(packetIds: readonly number[]): void {
    if (packetIds.length > 0) this.window.restorePubrels(packetIds)
  }

  /** Start-up, after restorePubrels: an id stored for a delivery in flight at the stop (outbound-window.ts). */
  holdRestoredId(packetId: number, ownSeq: number | undefined): boolean {
    return this.window.holdRestoredId(packetId, ownSeq)
  }

  sharedRecords(): SharedSubscriptionRecord[] {
    return [...this.sharedList].map(m => ({
      filter: m.filter,
      qos: m.qos,
      ...(m.subscriptionId === undefined ? {} : { subscriptionId: m.subscriptionId }),
      ...(m.retainAsPublished ? { retainAsPublished: true as const } : {})
    }))
  }
}
