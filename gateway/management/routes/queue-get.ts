// POST /api/queues/{vhost}/{name}/get: up to `count` messages, each then requeued or settled as
// `ackmode` says (ack_requeue_true|ack_requeue_false|reject_requeue_true|reject_requeue_false), with
// the payload as text or base64 (`encoding` auto|base64, `truncate` bytes). Needs read permission.
import type { QueueEntry } from '../../../core/model/queue-entry.ts'
import { json, type ApiCall, type Route } from '../api-router.ts'
import { authorize, managementOwner, vhostNamed } from '../management-context.ts'
import { badRequest } from '../api-error.ts'
import { gotMessageJson } from '../message-json.ts'
import { queueNamed } from './queues.ts'
import type { Json } from '../model-json.ts'

/** A bound on one request's messages, so a /get cannot take a whole deep queue into one answer. */
const countMax = 10_000

const ackModes = ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'] as const

export const queueGetRoutes: Route[] = [{ method: 'POST', path: '/api/queues/:vhost/:name/get', handler: get }]

async function get(call: ApiCall) {
  const { ctx, principal } = call
  const q = queueNamed(call)
  const b = await call.body(`get from queue '${q.name}'`)
  const count = Number(b.count ?? 1)
  if (!Number.isInteger(count) || count < 1 || count > countMax)
    throw badRequest(`get: count must be an integer from 1 to ${countMax}, got ${JSON.stringify(b.count)}`)
  const ackmode = b.ackmode ?? 'ack_requeue_true'
  if (!ackModes.includes(ackmode as (typeof ackModes)[number]))
    throw badRequest(`get: ackmode must be one of ${ackModes.join(', ')}, got ${JSON.stringify(ackmode)}`)
  const encoding = b.encoding ?? 'auto'
  if (encoding !== 'auto' && encoding !== 'base64') throw badRequest(`get: encoding must be auto or base64, got ${JSON.stringify(encoding)}`)
  const truncate = b.truncate === undefined || b.truncate === null || b.truncate === '' ? undefined : Number(b.truncate)
  if (truncate !== undefined && (!Number.isInteger(truncate) || truncate < 0))
    throw badRequest(`get: truncate must be a byte count, got ${JSON.stringify(b.truncate)}`)
  authorize(ctx, principal, q.vhost, 'read', 'queue', q.name)
  const v = vhostNamed(ctx, q.vhost)
  const owner = q.exclusiveOwner ?? managementOwner
  const taken: Array<{ entry: QueueEntry; left: number }> = []
  // All are taken before any is requeued, or a requeued one would come back in the same answer.
  while (taken.length < count) {
    const { entry } = v.get(q.name, false, owner)
    if (entry === undefined) break
    taken.push({ entry, left: q.messageCount })
  }
  const out: Json[] = taken.map(t => gotMessageJson(t.entry, t.left, encoding, truncate))
  const entries = taken.map(t => t.entry)
  if (ackmode === 'ack_requeue_true' || ackmode === 'reject_requeue_true') q.requeue(entries)
  else for (const e of entries) q.settle(e, ackmode === 'ack_requeue_false' ? 'acked' : 'rejected')
  return json(out)
}
