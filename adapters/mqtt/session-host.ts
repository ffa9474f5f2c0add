// What a session needs from the engine, behind one interface so the session knows no socket.
import type { Vhost } from '../../core/model/vhost.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { Logger } from '../../core/logger.ts'
import type { RestoredDeliveries } from './restored-deliveries.ts'

/**
 * Where a durable session keeps the outbound packet ids a restart could not work out again: of its
 * QoS 2 deliveries between PUBREC and PUBCOMP (their entries have left the queue, and the PUBRELs
 * must go again [MQTT-4.4.0-1]), and of deliveries whose id is not the one their entry's place
 * gives (a clash, a shared group's QoS 2), so that a resend carries the id the client saw.
 */
export interface PacketIdStore {
  /**
   * Stores the PUBREL-pending id in the commit that deletes the entry `settle` settles, and deletes
   * the id stored for the delivery (`stored`, when it had one) in that commit too; resolves after it.
   */
  putPubrel(clientId: string, packetId: number, settle: () => void, stored: QueueEntry | undefined): Promise<void>
  deletePubrel(clientId: string, packetId: number): Promise<void>
  /** Stores the id a delivery of the entry went out under; resolves after the commit (the PUBLISH waits for it). */
  putOutboundId(entry: QueueEntry, clientId: string, packetId: number): Promise<void>
  /** The delivery is over: its id goes, no earlier than the entry's deletion queued before (a deferred write). */
  deleteOutboundId(entry: QueueEntry): Promise<void>
}

export interface SessionHost {
  readonly vhost: Vhost
  /** The MQTT exchange (RabbitMQ's mqtt.exchange, amq.topic by default). */
  readonly exchange: string
  readonly log: Logger
  readonly packetIds: PacketIdStore
  /** Shared groups' QoS 2 deliveries from before the restart, waiting for their entries to come out of the group. */
  readonly restoredDeliveries: RestoredDeliveries
  nowMs(): number
  /** The delivery is done (acknowledged, QoS 0 sent, or skipped): the entry leaves its queue. */
  settle(entry: QueueEntry): void
  /** A delivery over the client's Maximum Packet Size was skipped: counted. */
  oversize(clientId: string): void
  /** A delivery whose topic is no MQTT Topic Name (an AMQP routing key: '', '+', '#', U+0000) was skipped: counted. */
  unsendable(clientId: string, topic: string, problem: string): void
}
