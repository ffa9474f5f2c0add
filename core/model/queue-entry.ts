import type { Message } from './message.ts'
import type { Queue } from './queue.ts'

export type EntryState = 'ready' | 'unacked' | 'gone'

/** One reference from a queue to a message: what is delivered, acked, requeued. */
export class QueueEntry {
  state: EntryState = 'ready'
  /** Handed out before (requeued, or possibly delivered before a restart). */
  redelivered = false
  /** Times handed out (in this process; 1 for an entry restored as redelivered): a redelivery loop shows here. */
  deliveries = 0
  /** Its queue_entries row was written (inside the store's write; see DurableStore). */
  stored = false

  constructor(
    readonly queue: Queue,
    readonly message: Message,
    readonly seq: number,
    readonly priority: number,
    /** Absolute expiry (queue TTL or per-message TTL, whichever is sooner), or undefined. */
    readonly expiresAtMs: number | undefined
  ) {}

  /** Needs a durable copy: a persistent message in a durable queue (any message in a quorum queue). */
  get durable(): boolean {
    return (this.message.persistent || this.queue.type.storesEveryMessage) && this.queue.durable
  }
}
