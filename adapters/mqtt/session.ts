// An MQTT session on the core model: a queue (`mqtt-session/<client id>`) whose bindings on the
// MQTT exchange are the session's subscriptions, consumed by the session while a connection is
// attached. Its outbound window is consumer credit (Receive Maximum / mqtt.maxInflightMessages).
// Subscription options are binding arguments, applied here at delivery: the QoS, No Local,
// Retain As Published, and every matching Subscription Identifier [MQTT-3.3.4-3].
import type { Queue, QueueConsumer } from '../../core/model/queue.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { Arguments } from '../../core/model/message.ts'
import type { SharedSubscriptionRecord, WillRecord } from './session-store.ts'
import type { SessionHost } from './session-host.ts'
import type { PublishOut } from './codec/packet-writer.ts'
import { compileFilter, filterMatches, filterToBindingKey, sharedQueueName, type CompiledFilter } from './topic-grammar.ts'
import { isRetained, mqttQosOf, outboundProperties, topicOf } from './properties.ts'
import type { SharedMembership } from './shared-subscriptions.ts'
import { HeldPacketIds } from './held-packet-ids.ts'
import type { RestoredDelivery } from './restored-deliveries.ts'

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

export interface SubscriptionOptions {
  readonly filter: string
  readonly qos: 0 | 1 | 2
  readonly noLocal: boolean
  readonly retainAsPublished: boolean
  readonly retainHandling: 0 | 1 | 2
  readonly subscriptionId: number | undefined
}

interface Subscription extends SubscriptionOptions {
  readonly compiled: CompiledFilter
  readonly bindingKey: string
  readonly args: Arguments
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

/** A QoS 1/2 PUBLISH sent and not yet acknowledged (PUBACK, PUBREC): its entry is still in its queue. */
interface PublishInflight {
  readonly stage: 'publish'
  readonly entry: QueueEntry
  readonly qos: 1 | 2
  readonly out: PublishOut
  /** A resend that waits for a place in the new connection's Receive Maximum [MQTT-3.3.4-9]. */
  held: boolean
  /** Its packet id is stored (mqtt_outbound_ids): a restart could not work it out from the entry. */
  readonly stored: boolean
  /** Its id is being stored: the PUBLISH waits for that commit, so a resend after a crash carries it [MQTT-4.4.0-1]. */
  storing: boolean
  /** It went out at least once: a send now is a resend (DUP) [MQTT-3.3.1-1]. */
  sent: boolean
}

/**
 * A QoS 2 delivery between PUBREC and PUBCOMP: its entry has left its queue, the packet id is all
 * that is left [MQTT-4.3.3-5]. It holds its place in the Receive Maximum window until PUBCOMP (§4.9).
 * One restored at start (a durable session's stored id) never had an entry in this process.
 */
interface PubrelInflight {
  readonly stage: 'pubrel'
  readonly qos: 2
  /** The queue the delivery came from: the place the PUBCOMP frees goes to it first. */
  readonly queue: Queue
  /** Its id is being stored: the PUBREL waits for that commit, the PUBLISH is never sent again after it [MQTT-4.3.3-6]. */
  storing: boolean
}

type Inflight = PublishInflight | PubrelInflight

function queueOf(f: Inflight): Queue {
  return f.stage === 'publish' ? f.entry.queue : f.queue
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
  /** Outbound QoS 1/2 deliveries by packet id, kept across reconnects (a durable session's PUBRELs across restarts too) [MQTT-4.4.0-1]. */
  private inflightMap: Map<number, Inflight> | undefined = undefined
  /** Inbound QoS 2 packet ids between PUBREC and PUBREL [MQTT-4.3.3-9]. */
  private qos2Set: Set<number> | undefined
  /** Session Expiry Interval in seconds; null: never. */
  expirySeconds: number | null
  will: WillRecord | undefined = undefined
  willTimer: ReturnType<typeof setTimeout> | undefined = undefined
  expiryTimer: ReturnType<typeof setTimeout> | undefined = undefined
  ended = false
  private nextPacketId = 1
  /** Ids no new PUBLISH may take though nothing is in flight under them (held-packet-ids.ts); made on first use. */
  private heldIds: HeldPacketIds | undefined = undefined
  /** In-flight entries held back at attach (a smaller Receive Maximum than they were sent under). */
  private heldCount = 0

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
  /** Outbound QoS 1/2 deliveries by packet id, kept across reconnects [MQTT-4.4.0-1]. */
  get inflight(): Map<number, Inflight> {
    return (this.inflightMap ??= new Map())
  }
  /** Inbound QoS 2 packet ids between PUBREC and PUBREL [MQTT-4.3.3-9]. */
  get qos2Received(): Set<number> {
    return (this.qos2Set ??= new Set())
  }

  // ---- QueueConsumer (the session queue) ----------------------------------------------------------

  hasCredit(): boolean {
    const c = this.conn
    return c !== null && (this.inflightMap?.size ?? 0) < c.sendQuota && c.writable()
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
    return { unacked: this.inflight.size, max: this.conn?.sendQuota ?? 0 }
  }

  cancelledByQueue(): void {
    if (this.ended) return
    this.conn?.sessionGone(`session queue ${this.queue.name} was deleted`)
  }

  /**
   * A shared group's delivery: the membership's QoS and identifier, never retained [MQTT-3.3.1-9].
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
    this.send(entry, false, topicOf(entry.message), Math.min(m.qos, mqttQosOf(entry.message)) as 0 | 1 | 2, false, ids)
  }

  private send(entry: QueueEntry, redelivered: boolean, topic: string, qos: 0 | 1 | 2, retain: boolean, ids: number[] | undefined): void {
    const conn = this.conn as SessionConnection
    const out = this.publishOut(entry, topic, qos, retain, ids, conn.protocolVersion === 5)
    if (qos === 0) {
      if (!conn.sendPublish(out)) this.host.oversize(this.clientId)
      this.host.settle(entry)
      return
    }
    out.dup = redelivered // [MQTT-3.3.1-1]
    const own = entry.queue === this.queue
    // An entry restored with a stored id takes it again (held for it since the start, so free).
    const kept = own && this.heldIds !== undefined ? this.takeHeldFor(entry.seq) : undefined
    const id = kept !== undefined && this.inflightMap?.has(kept) !== true ? kept : this.packetIdFor(entry, own)
    out.packetId = id
    // A restart gives an entry of the session's queue the id its seq names; one that goes out under
    // another id (a clash, or its stored one was taken), and a group's QoS 2 delivery (its group must
    // give it back to this session only [MQTT-4.8.2-4]), have theirs stored first. The common case
    // stores nothing.
    const named = own && kept === undefined && id === (entry.seq % 65535) + 1
    if (id !== kept && !named && (own || qos === 2) && entry.durable) {
      this.sendOnceStored(id, { stage: 'publish', entry, qos, out, held: false, stored: true, storing: true, sent: false })
      return
    }
    if (!conn.sendPublish(out)) {
      // skipped as if sent and acknowledged [MQTT-3.1.2-25]
      this.host.oversize(this.clientId)
      this.host.settle(entry)
      if (kept !== undefined) this.forgetStoredId(id, entry)
      return
    }
    this.inflight.set(id, { stage: 'publish', entry, qos, out, held: false, stored: kept !== undefined, storing: false, sent: true })
  }

  private publishOut(entry: QueueEntry, topic: string, qos: 0 | 1 | 2, retain: boolean, ids: number[] | undefined, v5: boolean): PublishOut {
    const out: PublishOut = { topic, payload: entry.message.body, qos, retain, dup: false }
    if (v5) {
      const props = outboundProperties(entry.message, this.host.nowMs())
      if (props !== undefined || ids !== undefined) out.properties = ids === undefined ? { ...props } : { ...props, subscriptionIdentifiers: ids }
    }
    return out
  }

  /**
   * The entry's seq names its packet id, so an unacknowledged delivery keeps its id across a
   * broker restart too [MQTT-4.4.0-1]; a clash with one in flight (a restored PUBREL's among them)
   * or held (held-packet-ids.ts) takes the next free id [MQTT-2.2.1-4], which is stored (send).
   */
  private packetIdFor(entry: QueueEntry, own: boolean): number {
    let id = own ? (entry.seq % 65535) + 1 : this.nextPacketId
    const held = this.heldIds
    while (this.inflightMap?.has(id) === true || held?.has(id) === true) id = id >= 65535 ? 1 : id + 1
    this.nextPacketId = id >= 65535 ? 1 : id + 1
    return id
  }

  /**
   * The delivery takes its place in the window now and goes out once its id is committed: a crash
   * before then never sent it, one after it finds the id [MQTT-4.4.0-1]. A connection attached
   * meanwhile counted it and left it for this commit (attach).
   */
  private sendOnceStored(id: number, f: PublishInflight): void {
    this.inflight.set(id, f)
    const sendNow = (): void => {
      f.storing = false
      // gone (acknowledged, ended) meanwhile, or waiting for a connection or a place in its window
      if (this.inflightMap?.get(id) === f && !f.held && this.conn !== null) this.resend(id, f)
    }
    this.host.packetIds.putOutboundId(f.entry, this.clientId, id).then(sendNow, (err: unknown) => {
      // the delivery goes on; only a restart before it is acknowledged would resend it under another id
      this.host.log.error('mqtt: store of an outbound packet id failed', { clientId: this.clientId, packetId: id, err })
      sendNow()
    })
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
    this.releaseHeld(packetId)
    let subscriptionId: number | undefined
    for (const m of this.sharedList) if (sharedQueueName(m.shared) === entry.queue.name) subscriptionId = m.subscriptionId
    const ids = subscriptionId === undefined ? undefined : [subscriptionId]
    // Properties whatever the next connection's version: only MQTT 5 writes them.
    const out = this.publishOut(entry, topicOf(entry.message), 2, false, ids, true)
    out.packetId = packetId
    const f: PublishInflight = { stage: 'publish', entry, qos: 2, out, held: false, stored: true, storing: false, sent: true }
    const conn = this.conn
    const room = conn !== null && this.inflight.size - this.heldCount < conn.sendQuota
    this.inflight.set(packetId, f)
    if (room) this.resend(packetId, f)
    else if (conn !== null) {
      f.held = true
      this.heldCount++
    } // else: attach resends it
  }

  // ---- acknowledgements from the client ------------------------------------------------------------

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): the delivery is done; false when the id is unknown. */
  completed(packetId: number, stage: 'publish' | 'pubrel'): boolean {
    const f = this.inflightMap?.get(packetId)
    if (f === undefined || f.stage !== stage || f.qos !== (stage === 'publish' ? 1 : 2)) return false
    this.finish(packetId, f)
    return true
  }

  /** PUBREC: the client has the message; it leaves the queue and PUBREL follows [MQTT-4.3.3-4]. */
  received(packetId: number, failed: boolean): boolean {
    const f = this.inflightMap?.get(packetId)
    if (f === undefined || f.qos !== 2) return false
    if (failed) {
      // a PUBREC with a reason code of 0x80 or more ends the exchange: no PUBREL (§4.3.3)
      this.finish(packetId, f)
    } else if (f.stage === 'pubrel') {
      // a PUBREC again: the PUBREL again, unless it still waits for its commit
      if (!f.storing) this.conn?.sendPubrel(packetId)
    } else {
      this.release(packetId, f)
    }
    return true
  }

  /**
   * The PUBLISH becomes a PUBREL in the same place of the window and of the send order. A durable
   * session stores the id in the commit that deletes the entry (and the id stored for the PUBLISH),
   * and sends the PUBREL after it: a crash before then brings back the PUBLISH, none after it
   * [MQTT-4.3.3-6], and the PUBREL goes again on a restart [MQTT-4.4.0-1].
   */
  private release(packetId: number, f: PublishInflight): void {
    this.unhold(f)
    const p: PubrelInflight = { stage: 'pubrel', qos: 2, queue: f.entry.queue, storing: this.durable }
    this.inflight.set(packetId, p)
    if (!p.storing) {
      this.host.settle(f.entry)
      // the id stays in flight (PUBREL) until PUBCOMP: its row may go at leisure
      if (f.stored) this.forgetStoredId(undefined, f.entry)
      this.conn?.sendPubrel(packetId)
      return
    }
    const sendPubrel = (): void => {
      p.storing = false
      // gone: completed or ended meanwhile; a connection attached meanwhile gets it here (attach skipped it)
      if (this.inflightMap?.get(packetId) === p) this.conn?.sendPubrel(packetId)
    }
    this.host.packetIds
      .putPubrel(this.clientId, packetId, () => this.host.settle(f.entry), f.stored ? f.entry : undefined)
      .then(sendPubrel, (err: unknown) => {
        // the exchange goes on; only a restart before its PUBCOMP would lose the PUBREL
        this.host.log.error('mqtt: store of a PUBREL-pending packet id failed', { clientId: this.clientId, packetId, err })
        sendPubrel()
      })
  }

  /** PUBACK, PUBCOMP or a refusing PUBREC: the exchange is over, its place in the window is free (§4.9). */
  private finish(packetId: number, f: Inflight): void {
    this.inflight.delete(packetId)
    if (f.stage === 'publish') {
      this.unhold(f) // acknowledged from the old connection's copy before its resend went
      this.host.settle(f.entry)
      if (f.stored) this.forgetStoredId(packetId, f.entry)
    } else if (this.durable) this.forgetPubrel(packetId)
    this.resendHeld()
    this.dispatch(queueOf(f))
  }

  /**
   * The stored PUBREL goes; its id serves no new PUBLISH before that commits: a crash first would
   * bring the PUBREL back beside that PUBLISH, and the client would release the new message with it.
   */
  private forgetPubrel(packetId: number): void {
    this.hold(packetId)
    this.host.packetIds
      .deletePubrel(this.clientId, packetId)
      .catch((err: unknown) => {
        this.host.log.error('mqtt: delete of a completed PUBREL-pending packet id failed', { clientId: this.clientId, packetId, err })
      })
      .finally(() => this.releaseHeld(packetId))
  }

  /**
   * The delivery's stored id goes, after its entry (the deletion settle queued); with packetId, that
   * id serves no new PUBLISH before it commits: a crash first would bring the entry back under it.
   */
  private forgetStoredId(packetId: number | undefined, entry: QueueEntry): void {
    if (packetId !== undefined) this.hold(packetId)
    this.host.packetIds
      .deleteOutboundId(entry)
      .catch((err: unknown) => {
        this.host.log.error('mqtt: delete of an outbound packet id failed', { clientId: this.clientId, packetId, err })
      })
      .finally(() => {
        if (packetId !== undefined) this.releaseHeld(packetId)
      })
  }

  private takeHeldFor(seq: number): number | undefined {
    const id = this.heldIds?.takeForEntry(seq)
    if (this.heldIds?.empty === true) this.heldIds = undefined
    return id
  }

  private hold(packetId: number): void {
    ;(this.heldIds ??= new HeldPacketIds()).hold(packetId)
  }

  /** An idle session keeps no HeldPacketIds. */
  private releaseHeld(packetId: number): void {
    const held = this.heldIds
    if (held === undefined) return
    held.release(packetId)
    if (held.empty) this.heldIds = undefined
  }

  private dispatch(q: Queue): void {
    q.dispatch()
    if (q !== this.queue) this.queue.dispatch()
    else for (const m of this.sharedList) m.queue?.dispatch()
  }

  // ---- connection ----------------------------------------------------------------------------------

  /**
   * A connection takes the session: unacknowledged deliveries go again, as they were, with DUP
   * [MQTT-4.4.0-1], within this connection's limits, which may be smaller than those they were sent
   * under: no more in flight than its Receive Maximum [MQTT-3.3.4-9] (the rest wait for places, as
   * Mosquitto 2 holds them), none over its Maximum Packet Size [MQTT-3.1.2-25].
   */
  attach(conn: SessionConnection): void {
    this.conn = conn
    this.heldCount = 0
    if (this.inflightMap !== undefined) {
      // Every PUBREL goes again [MQTT-4.4.0-1] and holds its place until PUBCOMP (§4.9), wherever it
      // sits in the send order: counted first, so a PUBLISH sent before it is not resent beside it
      // past the Receive Maximum [MQTT-3.3.4-9]. The packets still go in their original order.
      let onWire = 0
      for (const f of this.inflightMap.values()) if (f.stage === 'pubrel') onWire++
      for (const [id, f] of this.inflightMap) {
        if (f.stage === 'pubrel') {
          if (!f.storing) conn.sendPubrel(id) // one still being stored goes at its commit
        } else if (onWire >= conn.sendQuota) {
          f.held = true
          this.heldCount++
        } else if (f.storing)
          onWire++ // goes at its commit (sendOnceStored)
        else if (this.resend(id, f)) onWire++
      }
    }
    this.host.vhost.consume(this.queue.name, this, ADAPTER_OWNER)
    for (const m of this.sharedList) m.attach()
    this.queue.dispatch()
  }

  /**
   * Sends an unacknowledged delivery again, with DUP (or for the first time, one that waited for its
   * id's commit). One now over the client's Maximum Packet Size is discarded as if its sending had
   * completed [MQTT-3.1.2-25]; false then.
   */
  private resend(id: number, f: PublishInflight): boolean {
    const conn = this.conn as SessionConnection
    f.held = false
    // a client that dies on a message gets it again here: a redelivery loop
    if (f.sent) f.entry.queue.countDelivery(f.entry)
    if (conn.sendPublish(f.sent ? { ...f.out, dup: true } : f.out)) {
      f.sent = true
      return true
    }
    this.host.oversize(this.clientId)
    this.inflight.delete(id)
    this.host.settle(f.entry)
    if (f.stored) this.forgetStoredId(id, f.entry)
    return false
  }

  /**
   * A place in the window may have freed: resends held back at attach go into the free places. The
   * window is every exchange on the wire, resumed PUBRELs included, so a PUBCOMP of one of several
   * resumed PUBRELs frees nothing while the others still fill it [MQTT-3.3.4-9].
   */
  private resendHeld(): void {
    const conn = this.conn
    if (this.heldCount === 0 || conn === null) return
    let onWire = this.inflight.size - this.heldCount
    for (const [id, f] of this.inflight) {
      if (onWire >= conn.sendQuota) return
      if (f.stage !== 'publish' || !f.held) continue
      this.heldCount--
      if (this.resend(id, f)) onWire++
    }
    this.heldCount = 0 // none left (some may have left with a shared group meanwhile)
  }

  /** A held resend the client acknowledged (it had the old connection's copy): no longer waiting for a place. */
  private unhold(f: PublishInflight): void {
    if (!f.held) return
    f.held = false
    this.heldCount--
  }

  /** The connection went: the session keeps its queue and in-flight deliveries; shared groups get theirs back. */
  detach(): void {
    if (this.conn === null) return
    this.conn = null
    if (!this.queue.deleted) this.host.vhost.cancel(this.queue, this)
    for (const m of this.sharedList) m.detach('connection-lost')
  }

  /**
   * The session ended: deliveries from shared groups still in flight go back to their group (QoS
   * 1) or are dropped, never sent to another member (QoS 2) [MQTT-4.8.2-5].
   */
  releaseShared(): void {
    if (this.inflightMap !== undefined)
      for (const [id, f] of this.inflightMap) {
        if (queueOf(f) === this.queue) continue
        this.inflight.delete(id)
        if (f.stage === 'pubrel') continue
        if (f.qos === 1) f.entry.queue.requeue([f.entry])
        else {
          this.host.settle(f.entry)
          if (f.stored) this.forgetStoredId(undefined, f.entry)
        }
      }
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

  /**
   * Start-up: the stored PUBREL-pending ids, in PUBREC order. Each holds its place in the window, is
   * sent again when a connection attaches, and keeps its id from new deliveries until PUBCOMP.
   */
  restorePubrels(packetIds: readonly number[]): void {
    for (const id of packetIds) this.inflight.set(id, { stage: 'pubrel', qos: 2, queue: this.queue, storing: false })
  }

  /**
   * Start-up, after restorePubrels: an id stored for a delivery in flight at the stop, held until the
   * delivery comes back (ownSeq: an entry of this session's queue, which takes it again by its seq).
   * False when a restored PUBREL or delivery has it already (never expected: ids are stored unused).
   */
  holdRestoredId(packetId: number, ownSeq: number | undefined): boolean {
    if (this.inflightMap?.has(packetId) === true || this.heldIds?.has(packetId) === true) return false
    if (ownSeq === undefined) this.hold(packetId)
    else (this.heldIds ??= new HeldPacketIds()).holdForEntry(ownSeq, packetId)
    return true
  }

  sharedRecords(): SharedSubscriptionRecord[] {
    return [...this.sharedList].map(m =>
      m.subscriptionId === undefined ? { filter: m.filter, qos: m.qos } : { filter: m.filter, qos: m.qos, subscriptionId: m.subscriptionId }
    )
  }
}

function subscriptionOf(o: SubscriptionOptions): Subscription {
  const args: Record<string, unknown> = { 'x-mqtt-filter': o.filter, 'x-mqtt-qos': o.qos }
  if (o.noLocal) args['x-mqtt-no-local'] = true
  if (o.retainAsPublished) args['x-mqtt-retain-as-published'] = true
  if (o.retainHandling !== 0) args['x-mqtt-retain-handling'] = o.retainHandling
  if (o.subscriptionId !== undefined) args['x-mqtt-subscription-id'] = o.subscriptionId
  // Fixed keys, not a spread: a spread gives nearly every such object its own hidden class (~300 B).
  return {
    filter: o.filter,
    qos: o.qos,
    noLocal: o.noLocal,
    retainAsPublished: o.retainAsPublished,
    retainHandling: o.retainHandling,
    subscriptionId: o.subscriptionId,
    compiled: compileFilter(o.filter),
    bindingKey: filterToBindingKey(o.filter),
    args
  }
}

function optionsOf(args: Arguments): SubscriptionOptions | undefined {
  const filter = args['x-mqtt-filter']
  if (typeof filter !== 'string') return undefined
  const qos = args['x-mqtt-qos']
  const rh = args['x-mqtt-retain-handling']
  const sid = args['x-mqtt-subscription-id']
  return {
    filter,
    qos: qos === 2 ? 2 : qos === 1 ? 1 : 0,
    noLocal: args['x-mqtt-no-local'] === true,
    retainAsPublished: args['x-mqtt-retain-as-published'] === true,
    retainHandling: rh === 2 ? 2 : rh === 1 ? 1 : 0,
    subscriptionId: typeof sid === 'number' ? sid : undefined
  }
}
