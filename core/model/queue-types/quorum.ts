// The quorum queue type (x-queue-type quorum) on one node: RabbitMQ's replicated queue, here a
// classic queue of entries that stores every message it takes, whatever its delivery mode (a quorum
// queue's log keeps them all), with x-delivery-limit for poison messages. What only makes sense for a
// replicated queue (x-quorum-initial-group-size, leader placement) is accepted and has nothing to do.
// Declarations are checked as RabbitMQ 3.13 checks them: durable, neither exclusive nor auto-delete,
// and none of the classic-only arguments.
import { preconditionFailed } from '../../errors.ts'
import { ClassicQueue } from '../classic-queue.ts'
import { checkArguments, integer, queuePolicy } from '../queue-arguments.ts'
import { describeQueue } from '../names.ts'
import type { QueueDeclaration } from '../queue.ts'
import { restoreEntries } from './classic.ts'
import { storedDeclaration, type QueueType, type QueueTypeContext } from './queue-type.ts'

export const quorumQueue: QueueType = {
  name: 'quorum',
  consumersNeedCreditWindow: false,
  storesEveryMessage: true,
  countsDeliveries: true,

  create: (d, ctx) => quorum(d, ctx),

  restore: (s, entries, ctx) => restoreEntries(quorum(storedDeclaration(s), ctx), s, entries, ctx)
}

/** A quorum queue's own arguments, beside the classic ones it shares (queue-arguments.ts). */
const QUORUM_CHECKS = { 'x-delivery-limit': integer(0), 'x-quorum-initial-group-size': integer(1) }

/** Arguments a quorum queue refuses (RabbitMQ 3.13: classic-only features). */
const CLASSIC_ONLY = ['x-max-priority', 'x-queue-mode', 'x-queue-version', 'x-queue-master-locator']

function quorum(d: QueueDeclaration, ctx: QueueTypeContext): ClassicQueue {
  const what = describeQueue(d.vhost, d.name)
  if (!d.durable) throw preconditionFailed(`invalid property 'non-durable' for ${what}`)
  if (d.exclusiveOwner !== null) throw preconditionFailed(`invalid property 'exclusive-owner' for ${what}`)
  if (d.autoDelete) throw preconditionFailed(`invalid property 'auto-delete' for ${what}`)
  for (const name of CLASSIC_ONLY) {
    if (d.arguments[name] !== undefined) throw preconditionFailed(`invalid arg '${name}' for ${what}: not supported by quorum queues`)
  }
  if (d.arguments['x-overflow'] === 'reject-publish-dlx') {
    throw preconditionFailed(`invalid arg 'x-overflow' for ${what}: reject-publish-dlx is not supported by quorum queues`)
  }
  checkArguments(d.arguments, QUORUM_CHECKS, what)
  const policy = { ...queuePolicy(d.arguments, what), deliveryLimit: d.arguments['x-delivery-limit'] as number | undefined }
  return new ClassicQueue(quorumQueue, d, policy, ctx.host, ctx.paging)
}
