// A stream queue (x-queue-type stream): an append-only log in the queue model. It is a Queue to
// the rest of the model (bindings, routing, the vhost's queue list, admin and metrics), but what it
// holds is a StreamLog: a published message is appended, every consumer reads from its own
// offset, and acks only give credit back — nothing is removed by consuming. Retention (x-max-age,
// x-max-length-bytes) is the only thing that removes records.
import { notImplemented } from '../errors.ts'
import { Message, type Arguments, type MessageProperties } from '../model/message.ts'
import { Queue, type Accepted, type QueueConsumer, type QueueDeclaration, type QueueHost } from '../model/queue.ts'
import { QueueEntry } from '../model/queue-entry.ts'
import { queuePolicy } from '../model/queue-arguments.ts'
import type { QueueType } from '../model/queue-types/queue-type.ts'
import type { StreamRecord } from './stream-record.ts'
import type { StreamLog } from './stream-log.ts'
import type { SqliteStreamStore } from './sqlite-stream-store.ts'
import { streamPolicy } from './stream-arguments.ts'
import { parseStreamOffset, type StreamStart } from './stream-offset.ts'
import { StreamCursor } from './stream-consumer-cursor.ts'

/** The header each stream delivery carries, as RabbitMQ: the record's offset (a long). */
export const STREAM_OFFSET_HEADER = 'x-stream-offset'

/** A stream runs with none of the classic queue arguments (a declare carrying one is refused: queue-types/index.ts). */
const NO_CLASSIC_ARGUMENTS = queuePolicy({}, 'a stream')

export class StreamQueue extends Queue {
  readonly log: StreamLog
  private readonly cursors = new Map<QueueConsumer, StreamCursor>()
  private feeding = false
  private feedAgain = false

  /** storeId: queues.id of a stream restored at start (its log is read back), null for a new one. */
  constructor(
    type: QueueType,
    d: QueueDeclaration,
    host: QueueHost,
    private readonly streams: SqliteStreamStore,
    storeId: number | null
  ) {
    super(type, d, NO_CLASSIC_ARGUMENTS, host)
    const policy = streamPolicy({ ...d, exclusive: d.exclusiveOwner !== null }, this.description)
    this.storeId = storeId
    this.log = streams.open(this, policy)
    this.log.onCommitted = () => this.dispatch()
  }

  /** Records retained, in both tiers. */
  get messageCount(): number {
    return this.log.retainedRecords
  }
  get messageBytes(): number {
    return this.log.localBytes()
  }
  /** Bytes of the stream's segments in the object store (their encoded, compressed size). */
  override get coldBytes(): number {
    return this.log.offloadedBytes()
  }

  /** Per consumer: records behind the committed end, and whether it waits on a cold read. */
  consumerLags(): Array<{ lag: number; coldReading: boolean }> {
    return [...this.cursors.values()].map(c => ({ lag: Math.max(0, this.log.committedEnd - c.next), coldReading: c.isColdReading }))
  }

  /** Appends at the next offset; stored once the record is committed (a publisher confirm waits for it). */
  accept(message: Message): Accepted {
    return { stored: this.streams.append(this.log, message, this.host.nowMs()) }
  }

  /**
   * A consumer reading from x-stream-offset (a consume argument; without it from 'next', as in
   * RabbitMQ); manual acks only, as RabbitMQ.
   */
  addConsumer(consumer: QueueConsumer, args: Arguments): void {
    if (consumer.noAck) throw notImplemented(`automatic acknowledgement not supported by stream queues ${this.description}`)
    const start = parseStreamOffset(args[STREAM_OFFSET_HEADER], this.host.nowMs(), this.description)
    this.attach(consumer)
    const { next, skipBeforeMs } = this.startOf(start)
    this.cursors.set(consumer, new StreamCursor(consumer, this.log, this.streams, next, skipBeforeMs, () => this.dispatch()))
  }

  override removeConsumer(consumer: QueueConsumer): void {
    this.cursors.get(consumer)?.close()
    this.cursors.delete(consumer)
    super.removeConsumer(consumer)
  }

  /** Feeds every consumer with credit from its own offset. */
  dispatch(): void {
    if (this.feeding) {
      this.feedAgain = true
      return
    }
    this.feeding = true
    try {
      do {
        this.feedAgain = false
        for (const cursor of [...this.cursors.values()]) this.feed(cursor)
      } while (this.feedAgain)
    } finally {
      this.feeding = false
    }
  }

  get(): never {
    throw notImplemented(`basic.get not supported by stream queues ${this.description}`)
  }

  /** An ack (or reject) gives the consumer's credit back; the record stays. */
  settle(entry: QueueEntry): void {
    if (entry.state !== 'unacked') return
    entry.state = 'gone'
    this.unackedCount--
  }

  /** Nothing goes back: a stream consumer re-reads by offset, not by redelivery. */
  requeue(entries: Iterable<QueueEntry>): void {
    for (const entry of entries) this.settle(entry)
    this.dispatch()
  }

  purge(): never {
    throw notImplemented(`purge not supported by stream queues ${this.description}`)
  }

  override markDeleted(): number {
    const count = this.messageCount
    for (const cursor of this.cursors.values()) cursor.close()
    this.cursors.clear()
    super.markDeleted()
    this.streams.drop(this.log).catch(err => this.streams.logger.error('streams: delete stream records failed', { vhost: this.vhost, stream: this.name, err }))
    return count
  }

  private feed(cursor: StreamCursor): void {
    while (!this.deleted && cursor.consumer.hasCredit()) {
      const record = cursor.take()
      if (record === undefined) return
      this.deliver(cursor.consumer, record)
    }
  }

  private deliver(consumer: QueueConsumer, r: StreamRecord): void {
    const message = new Message(r.exchange, r.routingKey, withOffsetHeader(r.properties, r.offset), r.body, r.timestampMs, null)
    const entry = new QueueEntry(this, message, r.offset, 0, undefined)
    entry.state = 'unacked'
    this.unackedCount++
    consumer.deliver(entry, false)
  }

  private startOf(start: StreamStart): { next: number; skipBeforeMs: number | undefined } {
    const log = this.log
    switch (start.kind) {
      case 'first':
        return { next: log.firstRetained, skipBeforeMs: undefined }
      // The last record committed (RabbitMQ: the last chunk), or the next one of an empty stream.
      case 'last':
        return { next: Math.max(log.firstRetained, log.committedEnd - 1), skipBeforeMs: undefined }
      case 'next':
        return { next: log.nextOffset, skipBeforeMs: undefined }
      case 'offset':
        return { next: Math.min(Math.max(start.offset, log.firstRetained), log.nextOffset), skipBeforeMs: undefined }
      case 'timestamp':
        // Later than every record: from the next one, as RabbitMQ (nothing after it is passed over).
        if (start.timestampMs > log.lastTimestampMs) return { next: log.nextOffset, skipBeforeMs: undefined }
        return { next: Math.max(log.seekTimestamp(start.timestampMs), log.firstRetained), skipBeforeMs: start.timestampMs }
    }
  }
}

function withOffsetHeader(properties: MessageProperties, offset: number): MessageProperties {
  return { ...properties, headers: { ...properties.headers, [STREAM_OFFSET_HEADER]: { '!': 'long', value: offset } } }
}
