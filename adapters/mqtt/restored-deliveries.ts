// Outbound packet ids stored for deliveries in flight when the broker stopped (mqtt_outbound_ids),
// put back in place at start. An entry of a session's own queue takes its id again when the queue
// hands it to the session (by seq). A shared group's QoS 2 delivery is back in the group's queue:
// when the queue hands it out, to whichever member, it goes to the session it went to before, under
// the id it went out under [MQTT-4.8.2-4] [MQTT-4.4.0-1], or nowhere if that session ended
// [MQTT-4.8.2-5]. Until then each id is held in its session, so no new PUBLISH takes it. An AMQP
// consumer of the group's queue is no member: one that takes such an entry gets it as any other.
import { ClassicQueue } from '../../core/model/classic-queue.ts'
import type { Queue } from '../../core/model/queue.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import type { MqttSession } from './session.ts'
import type { StoredOutboundId } from './session-store.ts'
import { sessionQueueName } from './topic-grammar.ts'

export interface RestoredDelivery {
  /** undefined: the session did not outlive the stop (a clean one, or expired while the broker was down). */
  readonly session: MqttSession | undefined
  readonly packetId: number
}

export class RestoredDeliveries {
  /** By the queue object: a queue deleted and declared again under its name numbers its entries anew. */
  private readonly byQueue = new Map<Queue, Map<number, RestoredDelivery>>()

  /**
   * Start-up: the rows by their sessions. Returns the rows to delete: their entries are gone (a
   * crash between an entry's deletion and its row's), or their ids clash with another restored one.
   */
  restore(rows: readonly StoredOutboundId[], vhost: Vhost, sessionOf: (clientId: string) => MqttSession | undefined): StoredOutboundId[] {
    const gone: StoredOutboundId[] = []
    const inMemory = new Map<Queue, Set<number>>()
    for (const row of rows) {
      const queue = vhost.queueNamed(row.queue)
      const session = sessionOf(row.clientId)
      const own = row.queue === sessionQueueName(row.clientId)
      if (queue === undefined || (own && session?.queue !== queue) || !mayHold(queue, row.seq, inMemory)) gone.push(row)
      else if (session !== undefined && !session.holdRestoredId(row.packetId, own ? row.seq : undefined)) gone.push(row)
      else if (!own) this.add(queue, row.seq, { session, packetId: row.packetId })
    }
    return gone
  }

  private add(queue: Queue, seq: number, d: RestoredDelivery): void {
    let bySeq = this.byQueue.get(queue)
    if (bySeq === undefined) {
      bySeq = new Map()
      this.byQueue.set(queue, bySeq)
    }
    bySeq.set(seq, d)
  }

  /** The restored delivery an entry handed out now stands for, taken out; undefined for any other entry. */
  take(entry: QueueEntry): RestoredDelivery | undefined {
    if (this.byQueue.size === 0) return undefined
    const bySeq = this.byQueue.get(entry.queue)
    const d = bySeq?.get(entry.seq)
    if (bySeq === undefined || d === undefined) return undefined
    bySeq.delete(entry.seq)
    if (bySeq.size === 0) this.byQueue.delete(entry.queue)
    return d
  }
}

/**
 * Whether the queue may still hold its entry seq: among the entries read back at start, or, for a
 * queue that left the rest in the store (paging), anywhere up to its last seq.
 */
function mayHold(queue: Queue, seq: number, inMemory: Map<Queue, Set<number>>): boolean {
  if (!(queue instanceof ClassicQueue)) return false
  if (queue.messageCount > queue.ready.length) return seq <= queue.lastSeq
  let seqs = inMemory.get(queue)
  if (seqs === undefined) {
    seqs = new Set()
    for (const e of queue.ready.entries()) seqs.add(e.seq)
    inMemory.set(queue, seqs)
  }
  return seqs.has(seq)
}
