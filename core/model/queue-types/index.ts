// The queue types Wharf knows, by name. A new type is one module and one line here.
import { preconditionFailed } from '../../errors.ts'
import type { Arguments } from '../message.ts'
import { describe } from '../queue-arguments.ts'
import { classicQueue } from './classic.ts'
import { quorumQueue } from './quorum.ts'
import { streamQueue } from './stream.ts'
import type { QueueType } from './queue-type.ts'

export type { QueueType, QueueTypeContext } from './queue-type.ts'

export const queueTypes: ReadonlyMap<string, QueueType> = new Map([classicQueue, quorumQueue, streamQueue].map(t => [t.name, t]))

/** The type x-queue-type names (classic without it); another value is refused as RabbitMQ refuses it. */
export function queueTypeOf(args: Arguments, queueDescription: string): QueueType {
  const name = args['x-queue-type']
  if (name === undefined) return classicQueue
  const type = typeof name === 'string' ? queueTypes.get(name) : undefined
  if (type === undefined) {
    throw preconditionFailed(`invalid arg 'x-queue-type' for ${queueDescription}: expected one of ${[...queueTypes.keys()].join(', ')}, got ${describe(name)}`)
  }
  return type
}
