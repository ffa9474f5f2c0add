// What a session's outbound window (outbound-window.ts) keeps under each packet id in flight: a
// QoS 1/2 PUBLISH not yet acknowledged, or a QoS 2 delivery between PUBREC and PUBCOMP.
import type { Queue } from '../../core/model/queue.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { PublishOut } from './codec/packet-writer.ts'

/** A QoS 1/2 PUBLISH sent and not yet acknowledged (PUBACK, PUBREC): its entry is still in its queue. */
export interface PublishInflight {
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
export interface PubrelInflight {
  readonly stage: 'pubrel'
  readonly qos: 2
  /** The queue the delivery came from: the place the PUBCOMP frees goes to it first. */
  readonly queue: Queue
  /** Its id is being stored: the PUBREL waits for that commit, the PUBLISH is never sent again after it [MQTT-4.3.3-6]. */
  storing: boolean
}

export type Inflight = PublishInflight | PubrelInflight

export function queueOf(f: Inflight): Queue {
  return f.stage === 'publish' ? f.entry.queue : f.queue
}
