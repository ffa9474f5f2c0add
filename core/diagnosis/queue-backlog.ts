// What "backlog" means per queue type: a classic queue's ready messages; a stream's furthest-behind
// consumer (a stream keeps what was read, so its size is no backlog).
import type { Queue } from '../model/queue.ts'
import { StreamQueue } from '../streams/stream-queue.ts'

export function backlogOf(q: Queue): number {
  if (q instanceof StreamQueue) return q.consumerLags().reduce((max, c) => Math.max(max, c.lag), 0)
  return q.messageCount
}
