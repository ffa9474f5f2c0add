// Sender-selected distribution (RabbitMQ's extension, amqplib's CC / BCC publish options): the CC
// and BCC headers of a publish, arrays of strings, are routing keys besides its own, parsed here once
// and kept with the message (core's extraRoutingKeys: CC shown, BCC hidden). BCC is taken out of the
// message before it is stored or delivered; CC stays.
import type { ExtraRoutingKeys, MessageProperties } from '../../core/model/message.ts'
import { Methods } from './codec/amqp-defs.ts'
import { PRECONDITION_FAILED } from './codec/reply-codes.ts'
import { AmqpException } from './amqp-errors.ts'

export interface SenderSelected {
  /** The CC and BCC keys; null when the headers name none. */
  readonly extraRoutingKeys: ExtraRoutingKeys | null
  /** The properties without BCC; the same object when there was none. */
  readonly properties: MessageProperties
}

const NO_KEYS: readonly string[] = []

/** null when the publish has neither header (most publishes, which so allocate nothing here). */
export function senderSelected(properties: MessageProperties): SenderSelected | null {
  const headers = properties.headers
  if (headers === undefined || (headers.CC === undefined && headers.BCC === undefined)) return null
  const shown = keysOf(headers.CC, 'CC')
  const hidden = keysOf(headers.BCC, 'BCC')
  const extraRoutingKeys = shown.length === 0 && hidden.length === 0 ? null : { shown, hidden }
  if (headers.BCC === undefined) return { extraRoutingKeys, properties }
  const { BCC: _hidden, ...rest } = headers
  return { extraRoutingKeys, properties: { ...properties, headers: rest } }
}

/** As RabbitMQ (rabbit_basic:header_routes): an array's string entries; any other type refuses the publish. */
function keysOf(value: unknown, name: string): readonly string[] {
  if (value === undefined) return NO_KEYS
  if (!Array.isArray(value)) {
    throw new AmqpException(
      PRECONDITION_FAILED,
      `invalid message: header '${name}' must be an array of routing keys, got ${typeof value}`,
      Methods.BasicPublish
    )
  }
  return value.filter((k): k is string => typeof k === 'string')
}
