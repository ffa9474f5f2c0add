// Sender-selected distribution (RabbitMQ's extension, amqplib's CC / BCC publish options): the CC
// and BCC headers of a publish, arrays of strings, are routing keys besides its own. BCC is taken
// out of the message before it is stored or delivered; CC stays.
import type { MessageProperties } from '../../core/model/message.ts'
import { Methods } from './codec/amqp-defs.ts'
import { PRECONDITION_FAILED } from './codec/reply-codes.ts'
import { AmqpException } from './amqp-errors.ts'

export interface SenderSelected {
  /** The CC then BCC keys; undefined when neither header is there (most publishes). */
  readonly extraRoutingKeys: string[] | undefined
  /** The properties without BCC; the same object when there was none. */
  readonly properties: MessageProperties
}

export function senderSelected(properties: MessageProperties): SenderSelected {
  const headers = properties.headers
  if (headers === undefined || (headers.CC === undefined && headers.BCC === undefined)) return { extraRoutingKeys: undefined, properties }
  const extraRoutingKeys = [...keysOf(headers.CC, 'CC'), ...keysOf(headers.BCC, 'BCC')]
  if (headers.BCC === undefined) return { extraRoutingKeys, properties }
  const { BCC: _hidden, ...rest } = headers
  return { extraRoutingKeys, properties: { ...properties, headers: rest } }
}

/** As RabbitMQ (rabbit_basic:header_routes): an array's string entries; any other type refuses the publish. */
function keysOf(value: unknown, name: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    throw new AmqpException(
      PRECONDITION_FAILED,
      `invalid message: header '${name}' must be an array of routing keys, got ${typeof value}`,
      Methods.BasicPublish
    )
  }
  return value.filter((k): k is string => typeof k === 'string')
}
