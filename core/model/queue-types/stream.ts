// The stream queue type (x-queue-type stream): an append-only log read from offsets, stored by the
// stream store (core/streams/), which reads a stored stream's log back itself.
import { notImplemented } from '../../errors.ts'
import { describeQueue } from '../names.ts'
import { StreamQueue } from '../../streams/stream-queue.ts'
import type { SqliteStreamStore } from '../../streams/sqlite-stream-store.ts'
import { storedDeclaration, type QueueType, type QueueTypeContext } from './queue-type.ts'

export const streamQueue: QueueType = {
  name: 'stream',
  // rabbit_stream_queue:capabilities() in 3.13 (x-stream-filter-size-bytes is in no type's list:
  // neither compared nor refused).
  queueArguments: ['x-max-length-bytes', 'x-queue-type', 'x-max-age', 'x-stream-max-segment-size-bytes', 'x-initial-cluster-size', 'x-queue-leader-locator'],
  consumersNeedCreditWindow: true,
  storesEveryMessage: false, // a stream stores its records itself
  countsDeliveries: false,

  create(d, ctx) {
    return new StreamQueue(streamQueue, d, ctx.host, storage(ctx, describeQueue(d.vhost, d.name)), null)
  },

  /** A stream has no queue entries: its records are in its log. */
  restore(s, _entries, ctx) {
    return new StreamQueue(streamQueue, storedDeclaration(s), ctx.host, storage(ctx, describeQueue(s.vhost, s.name)), s.storeId)
  }
}

function storage(ctx: QueueTypeContext, what: string): SqliteStreamStore {
  if (ctx.streams === null) throw notImplemented(`cannot declare stream ${what}: this broker has no stream storage`)
  return ctx.streams
}
