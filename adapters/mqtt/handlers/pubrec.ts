// PUBREC: our QoS 2 delivery arrived; PUBREL follows, none after a refusal code (MQTT 5 §4.3).
import type { IPubrecPacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import { ReasonCode } from '../codec/reason-codes.ts'

/** PUBREC: our QoS 2 delivery arrived; PUBREL follows (none after a refusal code). */
export function handlePubrec(_engine: Engine, conn: MqttConnection, p: IPubrecPacket): void {
  const id = p.messageId ?? 0
  const refused = (p.reasonCode ?? 0) >= 0x80
  const known = conn.session?.received(id, refused) ?? false
  if (known && !refused) conn.messages.ack++ // the client has the message: QoS 2's acknowledgement
  if (!known && conn.protocolVersion === 5) conn.send({ cmd: 'pubrel', messageId: id, reasonCode: ReasonCode.PacketIdentifierNotFound } as never)
}
