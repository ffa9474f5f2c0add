// The packet ids of the uplink's QoS 1/2 PUBLISHes to an MQTT remote. A message's id is the one its
// queue entry's seq names, as the MQTT engine's outbound window does (outbound-window.ts), so a
// resend goes under its original id with DUP [MQTT-4.4.0-1] after a lost link and after a crash of
// the edge too, with no store write: the seq is stored with the entry. Before, each link drew new
// ids; an exchange the remote held between PUBREC and PUBREL at a crash kept its id taken there for
// the session's life, and a later PUBLISH under it was a resend to a strict remote (Wharf,
// Mosquitto): answered PUBREC and not routed [MQTT-4.3.3-10], deleted here as confirmed, lost.
// Now the remote finds the held id again: PUBREC, not routed again, then PUBREL and PUBCOMP.
//
// Within one process the exchanges not over are known (kept across links): one the remote answered
// with PUBREC is finished with its PUBREL, never its PUBLISH again [MQTT-4.3.3-6]; one whose entry
// no longer comes (expired, dropped while the link was down) is released when its id is needed. A
// clash of two entries in flight (seqs 65,535 apart) holds the later one, and every send after it
// in order, until the earlier exchange ends [MQTT-2.2.1-3]: rare, and nothing to store.
import type { IClientOptions, MqttClient } from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { PACKET_ID_MAX, nextPacketId, packetIdOfSeq } from '../../mqtt/packet-id-of-seq.ts'

type MessageIdProvider = NonNullable<IClientOptions['messageIdProvider']>

/** mqtt.js's id provider, told the id of the PUBLISH it is about to send. */
export interface DirectedIdProvider extends MessageIdProvider {
  /** The next allocate() returns id. */
  direct(id: number): void
  /** The id direct() set if no allocate() took it (the PUBLISH did not go), else null; clears it. */
  takeUnused(): number | null
}

/** An uplink QoS 1/2 exchange not over: sent under the id and not PUBACKed/PUBCOMPed. */
interface OpenExchange {
  /** -1 once the queue was declared anew: its seqs name other messages now. */
  seq: number
  qos: 1 | 2
  /** The remote answered PUBREC: what is left is the PUBREL and its PUBCOMP. */
  released: boolean
  /** The link it was last sent on. */
  client: MqttClient
  /** A PUBREL-only resend waiting for its PUBCOMP. */
  onPubcomp?: () => void
}

/** What a send asks of the link: the PUBLISH under id (with DUP or not), or the PUBREL only. */
export interface UplinkSend {
  readonly seq: number
  readonly qos: 1 | 2
  /** The entry may have been sent before (requeued, or possibly sent before a restart). */
  readonly redelivered: boolean
  publish(packetId: number, dup: boolean): void
  /** The remote confirmed the message (PUBCOMP of a PUBREL-only resend). */
  confirmed(): void
}

/** Kept per bridge, across links; in memory: after a crash the seqs name the ids again. */
export class UplinkPacketIds {
  private readonly open = new Map<number, OpenExchange>()
  private client: MqttClient | null = null
  private protocolVersion: 4 | 5 = 5
  /** Sends held back behind a clash, in order. */
  private held: UplinkSend[] = []
  private drainScheduled = false

  /**
   * mqtt.js's id provider for one link: a PUBLISH takes the id direct() set just before it (mqtt.js
   * allocates in publish() itself once connected); a SUBSCRIBE any id no open exchange or other
   * SUBSCRIBE holds.
   */
  provider(): DirectedIdProvider {
    const taken = new Set<number>()
    const open = this.open
    let directed: number | null = null
    let last: number | null = null
    let next = 1
    return {
      direct(id) {
        directed = id
      },
      takeUnused() {
        const unused = directed
        directed = null
        return unused
      },
      allocate() {
        if (directed !== null) {
          last = directed
          directed = null
          return last
        }
        for (let tries = 0; tries < PACKET_ID_MAX; tries++) {
          const id = next
          next = nextPacketId(next)
          if (open.has(id) || taken.has(id)) continue
          taken.add(id)
          last = id
          return id
        }
        return null
      },
      getLastAllocated: () => last,
      register(id) {
        if (open.has(id) || taken.has(id)) return false
        taken.add(id)
        return true
      },
      deallocate: id => void taken.delete(id),
      clear: () => taken.clear()
    }
  }

  /**
   * A new link, its CONNACK in: a new session at the remote (Session Present 0) forgot every
   * exchange; a resumed one keeps them, finished as their entries come again. Follows the link's acks.
   */
  attach(client: MqttClient, sessionPresent: boolean, protocolVersion: 4 | 5): void {
    if (!sessionPresent) this.open.clear()
    this.client = client
    this.protocolVersion = protocolVersion
    this.held = []
    client.on('packetreceive', packet => {
      if (this.client !== client) return
      if (packet.cmd !== 'puback' && packet.cmd !== 'pubrec' && packet.cmd !== 'pubcomp') return
      const id = packet.messageId
      const ex = id === undefined ? undefined : this.open.get(id)
      if (id === undefined || ex === undefined || ex.client !== client) return
      // 0x80 and up in a PUBREC ends the exchange: no PUBREL (§4.3.3). A PUBACK answers a QoS 2
      // PUBLISH at a remote that takes QoS 1 only (RabbitMQ's MQTT plugin before 3.13).
      if (packet.cmd === 'pubrec' && (packet.reasonCode ?? 0) < 0x80) {
        ex.released = true
        return
      }
      this.open.delete(id)
      ex.onPubcomp?.()
      // After mqtt.js has handled this ack: a held send under the same id must not take it.
      if (this.held.length > 0) this.scheduleDrain()
    })
  }

  /** The link ended: held sends are the forwarder's to give back (its link rejects them). */
  detach(client: MqttClient): void {
    if (this.client !== client) return
    this.client = null
    this.held = []
  }

  /** The bridge's queue was declared anew (an operator deleted it): its seqs start again and name new messages. */
  queueReplaced(): void {
    for (const ex of this.open.values()) ex.seq = -1
  }

  /** Sends s now, or after the sends held before it and the exchange its id clashes with. */
  send(s: UplinkSend): void {
    if (this.held.length > 0 || !this.tryStart(s)) this.held.push(s)
  }

  /** True when s went (PUBLISH or PUBREL); false while its id is taken by an exchange of this link. */
  private tryStart(s: UplinkSend): boolean {
    const client = this.client
    if (client === null) return true // the link is gone: its send was rejected already
    const id = packetIdOfSeq(s.seq)
    const ex = this.open.get(id)
    if (ex !== undefined && ex.seq === s.seq) {
      // The same message again: its PUBREL only once the remote had it [MQTT-4.3.3-6], else its PUBLISH with DUP [MQTT-3.3.1-1].
      ex.client = client
      if (ex.released && ex.qos === 2) {
        ex.onPubcomp = s.confirmed
        this.writePubrel(client, id)
      } else {
        ex.qos = s.qos
        s.publish(id, true)
      }
      return true
    }
    if (ex !== undefined) {
      if (ex.client === client) return false // in flight on this link: ends in its PUBCOMP or PUBACK
      // Left by an earlier link, its entry gone: a QoS 2 id the remote may hold is released first.
      if (ex.qos === 1) this.open.delete(id)
      else {
        ex.client = client
        ex.released = true
        this.writePubrel(client, id)
        return false
      }
    }
    this.open.set(id, { seq: s.seq, qos: s.qos, released: false, client })
    s.publish(id, s.redelivered)
    return true
  }

  private writePubrel(client: MqttClient, id: number): void {
    client.stream.write(mqttPacket.generate({ cmd: 'pubrel', messageId: id }, { protocolVersion: this.protocolVersion }))
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return
    this.drainScheduled = true
    setImmediate(() => {
      this.drainScheduled = false
      while (this.held.length > 0 && this.tryStart(this.held[0] as UplinkSend)) this.held.shift()
    })
  }
}
