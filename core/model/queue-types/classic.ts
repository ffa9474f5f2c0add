// The classic queue type: a FIFO (or priority) queue of entries with RabbitMQ's classic arguments.
import { ClassicQueue } from '../classic-queue.ts'
import { checkArguments, integer, queuePolicy, type Check } from '../queue-arguments.ts'
import { describeQueue } from '../names.ts'
import type { QueueDeclaration } from '../queue.ts'
import { storedDeclaration, type QueueType, type QueueTypeContext } from './queue-type.ts'
import type { StoredEntries, StoredQueue } from '../durable-store.ts'

/**
 * x-queue-version as RabbitMQ 3.13 checks it (check_queue_version): 1 or 2, the storage a classic
 * queue uses there; Wharf has one storage and keeps the value only to compare it on redeclare.
 * Checked on declare alone: Wharf took any value before, so a stored queue may carry another.
 */
const queueVersion: Check = v => integer(0)(v) ?? (v === 1 || v === 2 ? undefined : `unsupported queue version '${String(v)}'`)
const CLASSIC_CHECKS = { 'x-queue-version': queueVersion }

export const classicQueue: QueueType = {
  name: 'classic',
  // rabbit_classic_queue:capabilities() in 3.13: x-queue-version and x-queue-master-locator are
  // compared on redeclare too (x-queue-leader-locator joined the list only in 4.0).
  queueArguments: [
    'x-expires',
    'x-message-ttl',
    'x-dead-letter-exchange',
    'x-dead-letter-routing-key',
    'x-max-length',
    'x-max-length-bytes',
    'x-max-priority',
    'x-overflow',
    'x-queue-mode',
    'x-queue-version',
    'x-single-active-consumer',
    'x-queue-type',
    'x-queue-master-locator'
  ],
  consumersNeedCreditWindow: false,
  storesEveryMessage: false,
  countsDeliveries: false,

  create(d, ctx) {
    checkArguments(d.arguments, CLASSIC_CHECKS, describeQueue(d.vhost, d.name))
    return classic(d, ctx)
  },

  restore: (s, entries, ctx) => restoreEntries(classic(storedDeclaration(s), ctx), s, entries, ctx)
}

/**
 * A stored queue of classic queue entries (a classic or a quorum queue) filled with what was stored
 * for it: all of it, or, when the queue pages, its first storage.idleQueueMemoryMessagesMax entries and
 * the size of the rest, which stays in the store until the queue reaches it.
 */
export function restoreEntries(q: ClassicQueue, s: StoredQueue, entries: StoredEntries, ctx: QueueTypeContext): ClassicQueue {
  q.storeId = s.storeId
  const limit = q.memoryMessagesAtStart
  const head = entries.head(limit)
  for (const { seq, message, deliveries } of head) q.restore(message, seq, seq <= s.deliveredSeq, deliveries)
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
  return new ClassicQueue(classicQueue, d, queuePolicy(d.arguments, describeQueue(d.vhost, d.name)), ctx.host, ctx.paging, ctx.flow)
}
