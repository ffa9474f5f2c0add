// What a session needs from the engine, behind one interface so the session knows no socket.
import type { Vhost } from '../../core/model/vhost.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'

export interface SessionHost {
  readonly vhost: Vhost
  /** The MQTT exchange (RabbitMQ's mqtt.exchange, amq.topic by default). */
  readonly exchange: string
  nowMs(): number
  /** The delivery is done (acknowledged, QoS 0 sent, or skipped): the entry leaves its queue. */
  settle(entry: QueueEntry): void
  /** A delivery over the client's Maximum Packet Size was skipped: counted. */
  oversize(clientId: string): void
}
