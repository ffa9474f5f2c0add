// A method's entry in the dispatch table: which side it belongs to (channel 0 or a channel) and
// its handler, typed by the method's fields. A handler returning a promise pauses the connection's
// input until it settles (see connection.ts).
import type { FieldsOf, MethodId } from '../codec/amqp-defs.ts'
import type { AmqpConnection } from '../connection.ts'
import type { AmqpChannel } from '../channel.ts'
import type { Content } from '../content-assembler.ts'

export type HandlerResult = void | Promise<void>

export interface MethodRoute {
  readonly scope: 'connection' | 'channel'
  readonly handle: (conn: AmqpConnection, ch: AmqpChannel | undefined, fields: unknown, content: Content | undefined) => HandlerResult
}

export type RouteEntry = readonly [MethodId, MethodRoute]

export function onConnection<I extends MethodId>(id: I, fn: (conn: AmqpConnection, fields: FieldsOf<I>) => HandlerResult): RouteEntry {
  return [id, { scope: 'connection', handle: (conn, _ch, fields) => fn(conn, fields as FieldsOf<I>) }]
}

export function onChannel<I extends MethodId>(id: I, fn: (ch: AmqpChannel, fields: FieldsOf<I>, content: Content | undefined) => HandlerResult): RouteEntry {
  return [id, { scope: 'channel', handle: (_conn, ch, fields, content) => fn(ch as AmqpChannel, fields as FieldsOf<I>, content) }]
}
