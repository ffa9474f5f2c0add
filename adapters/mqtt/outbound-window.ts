// A session's outbound QoS 1/2 window: the deliveries in flight by packet id, kept across reconnects
// (a durable session's PUBRELs across restarts too) [MQTT-4.4.0-1], against the client's Receive
// Maximum [MQTT-3.3.4-9]. It chooses packet ids, stores those a restart could not work out again
// before their PUBLISH leaves, turns a PUBLISH into a PUBREL at PUBREC, ends exchanges at PUBACK and
// PUBCOMP, and resends at attach. Made on a session's first use: an idle subscriber carries none.
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { PublishOut } from './codec/packet-writer.ts'
import type { SessionHost } from './session-host.ts'
import type { MqttSession, SessionConnection } from './session.ts'
import { HeldPacketIds } from './held-packet-ids.ts'
import { remainingExpirySeconds } from './properties.ts'
import { queueOf, type Inflight, type PublishInflight, type PubrelInflight } from './inflight-delivery.ts'
import { nextPacketId, packetIdOfSeq } from './packet-id-of-seq.ts'

export class OutboundWindow {
  /** Outbound QoS 1/2 deliveries by packet id, kept across reconnects (a durable session's PUBRELs across restarts too) [MQTT-4.4.0-1]. */
  readonly inflight = new Map<number, Inflight>()
  private nextPacketId = 1
  /** Ids no new PUBLISH may take though nothing is in flight under them (held-packet-ids.ts); made on first use. */
  private heldIds: HeldPacketIds | undefined = undefined
  /** In-flight entries held back at attach (a smaller Receive Maximum than they were sent under). */
  private heldCount = 0

  constructor(
    private readonly session: MqttSession,
    private readonly host: SessionHost
  ) {}

  /**
   * Sends a QoS 1/2 delivery (own: an entry of the session's queue, whose seq names its id) and
   * takes its place in the window; out comes with its DUP flag [MQTT-3.3.1-1].
   */
  publish(conn: SessionConnection, entry: QueueEntry, qos: 1 | 2, out: PublishOut, own: boolean): void {
    // An entry restored with a stored id takes it again (held for it since the start, so free).
    const kept = own && this.heldIds !== undefined ? this.takeHeldFor(entry.seq) : undefined
    const id = kept !== undefined && !this.inflight.has(kept) ? kept : this.packetIdFor(entry, own)
    out.packetId = id
    // A restart gives an entry of the session's queue the id its seq names; one that goes out under
    // another id (a clash, or its stored one was taken), and a group's QoS 2 delivery (its group must
    // give it back to this session only [MQTT-4.8.2-4]), have theirs stored first. The common case
    // stores nothing.
    const named = own && kept === undefined && id === packetIdOfSeq(entry.seq)
    if (id !== kept && !named && (own || qos === 2) && entry.durable) {
      this.sendOnceStored(id, { stage: 'publish', entry, qos, out, held: false, stored: true, storing: true, sent: false })
      return
    }
    if (!conn.sendPublish(out)) {
      // skipped as if sent and acknowledged [MQTT-3.1.2-25]
      this.host.oversize(this.session.clientId)
      this.host.settle(entry)
      if (kept !== undefined) this.forgetStoredId(id, entry)
      return
    }
    this.inflight.set(id, { stage: 'publish', entry, qos, out, held: false, stored: kept !== undefined, storing: false, sent: true })
  }

  /**
   * The entry's seq names its packet id, so an unacknowledged delivery keeps its id across a
   * broker restart too [MQTT-4.4.0-1]; a clash with one in flight (a restored PUBREL's among them)
   * or held (held-packet-ids.ts) takes the next free id [MQTT-2.2.1-4], which is stored (publish).
   */
  private packetIdFor(entry: QueueEntry, own: boolean): number {
    let id = own ? packetIdOfSeq(entry.seq) : this.nextPacketId
    const held = this.heldIds
    while (this.inflight.has(id) || held?.has(id) === true) id = nextPacketId(id)
    this.nextPacketId = nextPacketId(id)
    return id
  }

  /**
   * The delivery takes its place in the window now and goes out once its id is committed: a crash
   * before then never sent it, one after it finds the id [MQTT-4.4.0-1]. A connection attached
   * meanwhile counted it and left it for this commit (resendAll).
   */
  private sendOnceStored(id: number, f: PublishInflight): void {
    this.inflight.set(id, f)
    const sendNow = (): void => {
      f.storing = false
      // gone (acknowledged, ended) meanwhile, or waiting for a connection or a place in its window
      if (this.inflight.get(id) === f && !f.held && this.session.conn !== null) this.resend(id, f)
    }
    this.host.packetIds.putOutboundId(f.entry, this.session.clientId, id).then(sendNow, (err: unknown) => {
      // the delivery goes on; only a restart before it is acknowledged would resend it under another id
      this.host.log.error('mqtt: store of an outbound packet id failed', { clientId: this.session.clientId, packetId: id, err })
      sendNow()
    })
  }

  /**
   * A group's QoS 2 delivery from before the restart (MqttSession.resumeRestored), back in flight
   * under the id it went out under, resent with DUP now or when the client returns [MQTT-4.8.2-4]
   * [MQTT-4.4.0-1].
   */
  resumeRestored(entry: QueueEntry, packetId: number, out: PublishOut): void {
    this.releaseHeld(packetId)
    out.packetId = packetId
    const f: PublishInflight = { stage: 'publish', entry, qos: 2, out, held: false, stored: true, storing: false, sent: true }
    const conn = this.session.conn
    const room = conn !== null && this.inflight.size - this.heldCount < conn.sendQuota
    this.inflight.set(packetId, f)
    if (room) this.resend(packetId, f)
    else if (conn !== null) {
      f.held = true
      this.heldCount++
    } // else: resendAll resends it
  }

  /**
   * Start-up: the stored PUBREL-pending ids, in PUBREC order. Each holds its place in the window, is
   * sent again when a connection attaches, and keeps its id from new deliveries until PUBCOMP.
   */
  restorePubrels(packetIds: readonly number[]): void {
    for (const id of packetIds) this.inflight.set(id, { stage: 'pubrel', qos: 2, queue: this.session.queue, storing: false })
  }

  /**
   * Start-up, after restorePubrels: an id stored for a delivery in flight at the stop, held until the
   * delivery comes back (ownSeq: an entry of this session's queue, which takes it again by its seq).
   * False when a restored PUBREL or delivery has it already (never expected: ids are stored unused).
   */
  holdRestoredId(packetId: number, ownSeq: number | undefined): boolean {
    if (this.inflight.has(packetId) || this.heldIds?.has(packetId) === true) return false
    if (ownSeq === undefined) this.hold(packetId)
    else (this.heldIds ??= new HeldPacketIds()).holdForEntry(ownSeq, packetId)
    return true
  }

  // ---- acknowledgements from the client ------------------------------------------------------------

  /** PUBACK (QoS 1) or PUBCOMP (QoS 2): the delivery is done; false when the id is unknown. */
  completed(packetId: number, stage: 'publish' | 'pubrel'): boolean {
    const f = this.inflight.get(packetId)
    if (f === undefined || f.stage !== stage || f.qos !== (stage === 'publish' ? 1 : 2)) return false
    this.finish(packetId, f)
    return true
  }

  /** PUBREC: the client has the message; it leaves the queue and PUBREL follows [MQTT-4.3.3-4]. */
  received(packetId: number, failed: boolean): boolean {
    const f = this.inflight.get(packetId)
    if (f === undefined || f.qos !== 2) return false
    if (failed) {
      // a PUBREC with a reason code of 0x80 or more ends the exchange: no PUBREL (§4.3.3)
      this.finish(packetId, f)
    } else if (f.stage === 'pubrel') {
      // a PUBREC again: the PUBREL again, unless it still waits for its commit
      if (!f.storing) this.session.conn?.sendPubrel(packetId)
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
    const p: PubrelInflight = { stage: 'pubrel', qos: 2, queue: f.entry.queue, storing: this.session.durable }
    this.inflight.set(packetId, p)
    if (!p.storing) {
      this.host.settle(f.entry)
      // the id stays in flight (PUBREL) until PUBCOMP: its row may go at leisure
      if (f.stored) this.forgetStoredId(undefined, f.entry)
      this.session.conn?.sendPubrel(packetId)
      return
    }
    const sendPubrel = (): void => {
      p.storing = false
      // gone: completed or ended meanwhile; a connection attached meanwhile gets it here (resendAll skipped it)
      if (this.inflight.get(packetId) === p) this.session.conn?.sendPubrel(packetId)
    }
    this.host.packetIds
      .putPubrel(this.session.clientId, packetId, () => this.host.settle(f.entry), f.stored ? f.entry : undefined)
      .then(sendPubrel, (err: unknown) => {
        // the exchange goes on; only a restart before its PUBCOMP would lose the PUBREL
        this.host.log.error('mqtt: store of a PUBREL-pending packet id failed', { clientId: this.session.clientId, packetId, err })
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
    } else if (this.session.durable) this.forgetPubrel(packetId)
    this.resendHeld()
    this.session.placeFreed(queueOf(f))
  }

  /**
   * The stored PUBREL goes; its id serves no new PUBLISH before that commits: a crash first would
   * bring the PUBREL back beside that PUBLISH, and the client would release the new message with it.
   */
  private forgetPubrel(packetId: number): void {
    this.holdUntilDeleted(packetId, () => this.host.packetIds.deletePubrel(this.session.clientId, packetId), 'a completed PUBREL-pending packet id')
  }

  /**
   * The delivery's stored id goes, after its entry (the deletion settle queued); with packetId, that
   * id serves no new PUBLISH before it commits: a crash first would bring the entry back under it.
   */
  private forgetStoredId(packetId: number | undefined, entry: QueueEntry): void {
    this.holdUntilDeleted(packetId, () => this.host.packetIds.deleteOutboundId(entry), 'an outbound packet id')
  }

  /** Runs a stored id's deletion; packetId, when given, is held from new PUBLISHes until it commits. */
  private holdUntilDeleted(packetId: number | undefined, deletion: () => Promise<void>, what: string): void {
    if (packetId !== undefined) this.hold(packetId)
    deletion()
      .catch((err: unknown) => {
        this.host.log.error(`mqtt: delete of ${what} failed`, { clientId: this.session.clientId, packetId, err })
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

  /** An idle window keeps no HeldPacketIds. */
  private releaseHeld(packetId: number): void {
    const held = this.heldIds
    if (held === undefined) return
    held.release(packetId)
    if (held.empty) this.heldIds = undefined
  }

  // ---- connection ----------------------------------------------------------------------------------

  /**
   * A connection took the session (its conn is set): unacknowledged deliveries go again, as they
   * were, with DUP [MQTT-4.4.0-1], within this connection's limits, which may be smaller than those
   * they were sent under: no more in flight than its Receive Maximum [MQTT-3.3.4-9] (the rest wait
   * for places, as Mosquitto 2 holds them), none over its Maximum Packet Size [MQTT-3.1.2-25].
   */
  resendAll(conn: SessionConnection): void {
    this.heldCount = 0
    // Every PUBREL goes again [MQTT-4.4.0-1] and holds its place until PUBCOMP (§4.9), wherever it
    // sits in the send order: counted first, so a PUBLISH sent before it is not resent beside it
    // past the Receive Maximum [MQTT-3.3.4-9]. The packets still go in their original order.
    let onWire = 0
    for (const f of this.inflight.values()) if (f.stage === 'pubrel') onWire++
    for (const [id, f] of this.inflight) {
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

  /**
   * Sends an unacknowledged delivery again, with DUP (or for the first time, one that waited for its
   * id's commit). One now over the client's Maximum Packet Size is discarded as if its sending had
   * completed [MQTT-3.1.2-25]; false then.
   */
  private resend(id: number, f: PublishInflight): boolean {
    const conn = this.session.conn as SessionConnection
    f.held = false
    // a client that dies on a message gets it again here: a redelivery loop
    if (f.sent) f.entry.queue.countDelivery(f.entry)
    if (conn.sendPublish(this.outNow(f))) {
      f.sent = true
      return true
    }
    this.host.oversize(this.session.clientId)
    this.inflight.delete(id)
    this.host.settle(f.entry)
    if (f.stored) this.forgetStoredId(id, f.entry)
    return false
  }

  /**
   * The PUBLISH as it goes now: DUP once it went before [MQTT-3.3.1-1], and the Message Expiry
   * Interval of this send, not of the first: every PUBLISH the server sends carries what is left of
   * it [MQTT-3.3.2-6]; one that passed meanwhile still goes (with 0), its delivery had started
   * [MQTT-3.3.2-5].
   */
  private outNow(f: PublishInflight): PublishOut {
    const props = f.out.properties
    const expiry = props?.messageExpiryInterval === undefined ? undefined : remainingExpirySeconds(f.entry.message, this.host.nowMs())
    if (!f.sent && expiry === undefined) return f.out
    const out = f.sent ? { ...f.out, dup: true } : { ...f.out }
    if (expiry !== undefined) out.properties = { ...props, messageExpiryInterval: expiry }
    return out
  }

  /**
   * A place in the window may have freed: resends held back at attach go into the free places. The
   * window is every exchange on the wire, resumed PUBRELs included, so a PUBCOMP of one of several
   * resumed PUBRELs frees nothing while the others still fill it [MQTT-3.3.4-9].
   */
  private resendHeld(): void {
    const conn = this.session.conn
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

  /**
   * The session ended: deliveries from shared groups still in flight go back to their group (QoS
   * 1) or are dropped, never sent to another member (QoS 2) [MQTT-4.8.2-5].
   */
  releaseShared(): void {
    for (const [id, f] of this.inflight) {
      if (queueOf(f) === this.session.queue) continue
      this.inflight.delete(id)
      if (f.stage === 'pubrel') continue
      if (f.qos === 1) f.entry.queue.requeue([f.entry])
      else {
        this.host.settle(f.entry)
        if (f.stored) this.forgetStoredId(undefined, f.entry)
      }
    }
  }
}
