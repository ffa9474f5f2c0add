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

/** Every argument some queue type lists as its own (rabbit_queue_type:arguments(queue_arguments)). */
const TYPED_ARGUMENTS: ReadonlySet<string> = new Set([...queueTypes.values()].flatMap(t => t.queueArguments))

/**
 * A new queue may not carry an argument that belongs to other queue types only, as RabbitMQ 3.13
 * refuses it (rabbit_amqqueue:check_declare_arguments and check_arguments_key): 406 "invalid arg
 * 'x-delivery-limit' for queue 'q' in vhost '/' of queue type rabbit_classic_queue", the first such
 * argument in the order the client sent them, named by RabbitMQ's module for the type. Arguments no
 * type lists (x-wharf-*, a client's own) stay accepted and ignored. Only a declare that creates the
 * queue is checked: a redeclare compares the type's own arguments alone, and a stored queue is
 * restored as it was accepted.
 */
export function refuseOtherTypesArguments(type: QueueType, args: Arguments, queueDescription: string): void {
  for (const name of Object.keys(args)) {
    if (args[name] !== undefined && TYPED_ARGUMENTS.has(name) && !type.queueArguments.includes(name)) {
      throw preconditionFailed(`invalid arg '${name}' for ${queueDescription} of queue type rabbit_${type.name}_queue`)
    }
  }
}
