// What a session needs from the engine, behind one interface so the session knows no socket.
import type { Vhost } from '../../core/model/vhost.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { Logger } from '../../core/logger.ts'

/**
 * Where a durable session keeps the packet ids of its QoS 2 deliveries between PUBREC and PUBCOMP:
 * their entries have left the queue, and the PUBRELs must go again after a restart [MQTT-4.4.0-1].
 */
export interface PubrelStore {
  /** Stores the id in the commit that deletes the entry `settle` settles; resolves after that commit. */
  putPubrel(clientId: string, packetId: number, settle: () => void): Promise<void>
  deletePubrel(clientId: string, packetId: number): Promise<void>
}

export interface SessionHost {
  readonly vhost: Vhost
  /** The MQTT exchange (RabbitMQ's mqtt.exchange, amq.topic by default). */
  readonly exchange: string
  readonly log: Logger
  readonly pubrels: PubrelStore
  nowMs(): number
  /** The delivery is done (acknowledged, QoS 0 sent, or skipped): the entry leaves its queue. */
  settle(entry: QueueEntry): void
  /** A delivery over the client's Maximum Packet Size was skipped: counted. */
  oversize(clientId: string): void
}
