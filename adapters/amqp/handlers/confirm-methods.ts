// confirm class (85, RabbitMQ's extension): publisher confirms.
import { Methods } from '../codec/amqp-defs.ts'
import { PRECONDITION_FAILED } from '../codec/reply-codes.ts'
import { AmqpException } from '../amqp-errors.ts'
import { onChannel, type RouteEntry } from './route.ts'

export const confirmMethods: readonly RouteEntry[] = [
  onChannel(Methods.ConfirmSelect, (ch, f) => {
    if (ch.tx !== undefined) throw new AmqpException(PRECONDITION_FAILED, 'cannot switch from tx to confirm mode', Methods.ConfirmSelect)
    ch.enableConfirms()
    if (!f.nowait) ch.send(Methods.ConfirmSelectOk, {})
  })
]
