import type { Aedes, Client, PublishPacket } from 'aedes'

type PublishFn = (packet: PublishPacket, client: Client | null, done: (err?: Error | null) => void) => void

/**
 * aedes writes a QoS 1 PUBACK *before* broker.publish runs its storage steps, so a PUBACK could
 * leave ahead of the commit. The durability contract (DESIGN.md §3) needs the opposite order.
 * authorizePublish is the one async hook ahead of the PUBACK, so an authorized QoS 1 publish is run
 * through aedes' own publish pipeline from there (retained store, offline enqueue awaiting the group
 * commit, live delivery); when aedes then calls broker.publish after the PUBACK, the packet is
 * recognised and not published a second time.
 * QoS 2 needs nothing: aedes stores the incoming packet and publishes before it writes PUBREC.
 * A publish denied by ACL is marked and skipped in broker.publish, so the client is not
 * disconnected (Mosquitto behaves so for MQTT 3.1.1, which has no negative PUBACK).
 */
export class DurablePublish {
  private readonly published = new WeakSet<object>()
  private readonly dropped = new WeakSet<object>()
  private readonly aedesPublish: PublishFn

  constructor (private readonly broker: Aedes) {
    this.aedesPublish = broker.publish.bind(broker) as unknown as PublishFn
    const guarded: PublishFn = (packet, client, done) => {
      if (typeof client === 'function') { done = client; client = null }
      if (this.published.delete(packet) || this.dropped.delete(packet)) {
        if (done) done(null)
        return
      }
      this.aedesPublish(packet, client, done)
    }
    ;(broker as unknown as { publish: PublishFn }).publish = guarded
  }

  /** Call from authorizePublish once the publish is allowed; `done` is authorizePublish's callback. */
  commitBeforeAck (packet: PublishPacket, client: Client | null, done: (err?: Error | null) => void): void {
    if (packet.qos !== 1) { done(null); return }
    this.aedesPublish(packet, client, err => {
      if (err) { done(err); return }
      this.published.add(packet)
      done(null)
    })
  }

  /** Call from authorizePublish for a publish that must vanish without closing the connection. */
  drop (packet: PublishPacket, done: (err?: Error | null) => void): void {
    this.dropped.add(packet)
    done(null)
  }
}
