// The classic queue type: a FIFO (or priority) queue of entries with RabbitMQ's classic arguments.
import { ClassicQueue } from '../classic-queue.ts'
import { queuePolicy } from '../queue-arguments.ts'
import { describeQueue } from '../names.ts'
import type { QueueDeclaration } from '../queue.ts'
import { storedDeclaration, type QueueType, type QueueTypeContext } from './queue-type.ts'
import type { StoredEntries, StoredQueue } from '../durable-store.ts'

export const classicQueue: QueueType = {
  name: 'classic',
  consumersNeedCreditWindow: false,
  storesEveryMessage: false,
  countsDeliveries: false,

  create: (d, ctx) => classic(d, ctx),

  restore: (s, entries, ctx) => restoreEntries(classic(storedDeclaration(s), ctx), s, entries, ctx)
}

/**
 * A stored queue of classic queue entries (a classic or a quorum queue) filled with what was stored
 * for it: all of it, or, when the queue pages, its first storage.queueMemoryMessagesMax entries and
 * the size of the rest, which stays in the store until the queue reaches it.
 */
export function restoreEntries(q: ClassicQueue, s: StoredQueue, entries: StoredEntries, ctx: QueueTypeContext): ClassicQueue {
  q.storeId = s.storeId
  const limit = q.memoryMessagesMax
  const head = entries.head(limit)
  for (const { seq, message } of head) q.restore(message, seq, seq <= s.deliveredSeq)
  const last = head[head.length - 1]
  if (limit !== undefined && last !== undefined && head.length === limit) q.restorePaged(entries.beyond(last.seq), s.deliveredSeq)
  // New entries number on from the delivered watermark, not from the last entry left: otherwise
  // a queue drained before the restart would give its next messages seqs at or below the
  // watermark, and they would come back marked redelivered after the restart after that.
  q.lastSeq = Math.max(q.lastSeq, s.deliveredSeq)
  q.restoreDelivered(s.deliveredSeq)
  q.expire(ctx.host.nowMs()) // what expired while the broker was down goes (and is dead-lettered) now
  return q
}

function classic(d: QueueDeclaration, ctx: QueueTypeContext): ClassicQueue {
  return new ClassicQueue(classicQueue, d, queuePolicy(d.arguments, describeQueue(d.vhost, d.name)), ctx.host, ctx.paging)
}
