// PUBREL: the client's QoS 2 publish is released; its packet id may be used again [MQTT-4.3.3-12].
import type { IPubrelPacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import { ReasonCode } from '../codec/reason-codes.ts'

/**
 * PUBREL: the receipt of the id is deleted and PUBCOMP follows [MQTT-4.3.3-11]. The PUBCOMP waits for
 * that deletion's commit: once the client has it, it may reuse the id for a new message, which a
 * receipt left over by a crash would take for a resend and drop [MQTT-4.3.3-12].
 */
export function handlePubrel(engine: Engine, conn: MqttConnection, p: IPubrelPacket): void {
  const id = p.messageId ?? 0
  const session = conn.session
  const known = session?.qos2Received.delete(id) ?? false
  const deleted = known && session?.durable === true ? engine.sessions.store.deleteQos2(conn.clientId, id) : undefined
  const reasonCode = known || conn.protocolVersion !== 5 ? ReasonCode.Success : ReasonCode.PacketIdentifierNotFound
  conn.ackAfter(deleted, { cmd: 'pubcomp', messageId: id, reasonCode } as never)
}
