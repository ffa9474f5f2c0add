// The quorum queue type (x-queue-type quorum) on one node: RabbitMQ's replicated queue, here a
// classic queue of entries that stores every message it takes, whatever its delivery mode (a quorum
// queue's log keeps them all), with x-delivery-limit for poison messages. What only makes sense for a
// replicated queue (x-quorum-initial-group-size, leader placement) is accepted and has nothing to do.
// Declarations are checked as RabbitMQ 3.13 checks them: durable, neither exclusive nor auto-delete;
// arguments of other queue types (x-max-priority, ...) are refused before (queue-types/index.ts).
import { preconditionFailed } from '../../errors.ts'
import { ClassicQueue } from '../classic-queue.ts'
import { checkArguments, integer, queuePolicy } from '../queue-arguments.ts'
import { describeQueue } from '../names.ts'
import type { QueueDeclaration } from '../queue.ts'
import { restoreEntries } from './classic.ts'
import { storedDeclaration, type QueueType, type QueueTypeContext } from './queue-type.ts'

export const quorumQueue: QueueType = {
  name: 'quorum',
  // rabbit_quorum_queue:capabilities() in 3.13, the arguments Wharf has no use for on one node too.
  queueArguments: [
    'x-dead-letter-exchange',
    'x-dead-letter-routing-key',
    'x-dead-letter-strategy',
    'x-expires',
    'x-max-length',
    'x-max-length-bytes',
    'x-max-in-memory-length',
    'x-max-in-memory-bytes',
    'x-overflow',
    'x-single-active-consumer',
    'x-queue-type',
    'x-quorum-initial-group-size',
    'x-delivery-limit',
    'x-message-ttl',
    'x-queue-leader-locator'
  ],
  consumersNeedCreditWindow: false,
  storesEveryMessage: true,
  countsDeliveries: true,

  create: (d, ctx) => quorum(d, ctx),

  restore: (s, entries, ctx) => restoreEntries(quorum(storedDeclaration(s), ctx), s, entries, ctx)
}

/** A quorum queue's own arguments, beside the classic ones it shares (queue-arguments.ts). */
const QUORUM_CHECKS = { 'x-delivery-limit': integer(0), 'x-quorum-initial-group-size': integer(1) }

function quorum(d: QueueDeclaration, ctx: QueueTypeContext): ClassicQueue {
  const what = describeQueue(d.vhost, d.name)
  if (!d.durable) throw preconditionFailed(`invalid property 'non-durable' for ${what}`)
  if (d.exclusiveOwner !== null) throw preconditionFailed(`invalid property 'exclusive-owner' for ${what}`)
  if (d.autoDelete) throw preconditionFailed(`invalid property 'auto-delete' for ${what}`)
  if (d.arguments['x-overflow'] === 'reject-publish-dlx') {
    throw preconditionFailed(`invalid arg 'x-overflow' for ${what}: reject-publish-dlx is not supported by quorum queues`)
  }
  checkArguments(d.arguments, QUORUM_CHECKS, what)
  const policy = { ...queuePolicy(d.arguments, what), deliveryLimit: d.arguments['x-delivery-limit'] as number | undefined }
  return new ClassicQueue(quorumQueue, d, policy, ctx.host, ctx.paging, ctx.flow)
}
