// Every MQTT publish (client publishes, wills) is routed once, by core: converted to a core message
// on the MQTT exchange and published there, where AMQP queues, streams, shared-subscription queues
// and the MQTT sink (the sessions, via aedes) are its possible destinations.
//
// When: aedes writes a QoS 1 PUBACK *before* broker.publish runs, so a QoS 1 publish is routed
// from authorizePublish (the one async hook ahead of the PUBACK) and the PUBACK waits for every
// durable copy's commit (DESIGN.md §3); when aedes then calls broker.publish, the packet is
// recognised and not routed again. QoS 0 and QoS 2 are routed from broker.publish (aedes writes
// PUBREC after it, and de-duplicates QoS 2 retransmissions before it).
// Topics starting with '$' ($SYS) never enter core: they are MQTT-internal [MQTT-4.7.2-1].
import type { Aedes, Client, PublishPacket } from 'aedes'
import type { Vhost } from '../../core/model/vhost.ts'
import { mqttToCoreMessage } from './message-mapping.ts'
import { MqttSink, type AedesPublish } from './mqtt-sink.ts'

type Done = (err?: Error | null) => void
type PublishFn = (packet: PublishPacket, client: Client | null, done: Done) => void

const RESOLVED = Promise.resolve()

export class CorePublish {
  readonly sink: MqttSink
  private readonly routed = new WeakSet<object>()
  private readonly dropped = new WeakSet<object>()
  private readonly aedesPublish: PublishFn

  constructor (broker: Aedes, private readonly vhost: Vhost, private readonly exchange: string, private readonly nowMs: () => number) {
    this.aedesPublish = broker.publish.bind(broker) as unknown as PublishFn
    this.sink = new MqttSink(vhost, exchange, this.aedesPublish as unknown as AedesPublish)
    const guarded: PublishFn = (packet, client, done) => {
      if (typeof client === 'function') { done = client; client = null }
      const finish: Done = done ?? (() => {})
      if (this.routed.delete(packet) || this.dropped.delete(packet)) { finish(null); return }
      if (packet.topic.startsWith('$')) { this.aedesPublish(packet, client, finish); return }
      if (packet.qos === 0) { this.routeUnacknowledged(packet, client, finish); return }
      this.route(packet, client).then(() => finish(null), finish)
    }
    ;(broker as unknown as { publish: PublishFn }).publish = guarded
  }

  /** Call from authorizePublish once the publish is allowed; `done` is authorizePublish's callback. */
  commitBeforeAck (packet: PublishPacket, client: Client | null, done: Done): void {
    if (packet.qos !== 1) { done(null); return }
    this.route(packet, client).then(() => { this.routed.add(packet); done(null) }, done)
  }

  /** Call from authorizePublish for a publish that must vanish without closing the connection. */
  drop (packet: PublishPacket, done: Done): void {
    this.dropped.add(packet)
    done(null)
  }

  /** QoS 0: no ack waits for a commit; `done` is called when aedes (if routed there) is through. */
  private routeUnacknowledged (packet: PublishPacket, client: Client | null, done: Done): void {
    let handed: boolean
    try {
      const message = mqttToCoreMessage(packet, this.exchange, this.nowMs())
      handed = this.sink.publishUnacknowledged(message, packet, client, done, () => this.vhost.publish(this.exchange, message))
    } catch (err) {
      done(new Error(`mqtt: publish to "${packet.topic}": ${(err as Error).message}`))
      return
    }
    if (!handed) done(null)
  }

  /** Routes through core; settles when every durable copy (queues, offline sessions) is committed. */
  private route (packet: PublishPacket, client: Client | null): Promise<void> {
    try {
      const message = mqttToCoreMessage(packet, this.exchange, this.nowMs())
      return this.sink.publishFrom(message, packet, client, () => this.vhost.publish(this.exchange, message)).stored ?? RESOLVED
    } catch (err) {
      return Promise.reject(new Error(`mqtt: publish to "${packet.topic}": ${(err as Error).message}`))
    }
  }
}
