// Where a bridge puts a message its remote refused for good (links/message-refusal.ts), or one it
// will not send (over the remote's size, over hopsMax): the durable core queue bridge-dead/<name> in
// the bridge's vhost, visible in /api/queues like any queue, where an operator can read, move or
// purge it. The copy carries RabbitMQ's x-death headers (reason rejected, queue bridge/<name>) and
// the reason (the remote's words, or Wharf's) in x-wharf-refusal. Stored through the same
// ordered store as the removal from the bridge queue that follows it, so a crash in between leaves
// the message in both (it is refused and dead-lettered again), never in neither.
import type { ClassicQueue } from '../../core/model/classic-queue.ts'
import { deadLetteredCopy } from '../../core/model/dead-letter.ts'
import { Message } from '../../core/model/message.ts'
import type { Queue } from '../../core/model/queue.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import { BRIDGE_OWNER } from './bridge-queue.ts'

export const DEAD_LETTER_QUEUE_PREFIX = 'bridge-dead/'
export const deadLetterQueueName = (bridgeName: string): string => DEAD_LETTER_QUEUE_PREFIX + bridgeName
export const REFUSAL_HEADER = 'x-wharf-refusal'

export class DeadLetters {
  private queue: Queue | null = null

  constructor(
    private readonly vhost: Vhost,
    private readonly bridgeName: string
  ) {}

  /** The copy of a refused entry is queued (and stored) in bridge-dead/<name>; resolves once committed. */
  async put(entry: QueueEntry, bridgeQueue: ClassicQueue, reason: string, nowMs: number): Promise<void> {
    const queue = await this.declared()
    const message = deadLetteredCopy(entry.message, bridgeQueue, 'rejected', nowMs)
    const copy = new Message(
      '',
      entry.message.routingKey,
      { ...message.properties, headers: { ...message.properties.headers, [REFUSAL_HEADER]: reason } },
      message.body,
      nowMs,
      null,
      message.extraRoutingKeys
    )
    await this.vhost.enqueueTo(queue, copy).stored
  }

  private async declared(): Promise<Queue> {
    if (this.queue !== null && !this.queue.deleted) return this.queue
    const name = deadLetterQueueName(this.bridgeName)
    this.queue = await this.vhost.declareQueue({ name, durable: true, exclusive: false, autoDelete: false, arguments: {} }, BRIDGE_OWNER, false, true)
    return this.queue
  }
}
