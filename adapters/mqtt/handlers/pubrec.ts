// PUBREC: our QoS 2 delivery arrived; PUBREL follows, none after a refusal code (MQTT 5 §4.3).
import type { IPubrecPacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import { ReasonCode } from '../codec/reason-codes.ts'

/** PUBREC: our QoS 2 delivery arrived; PUBREL follows (none after a refusal code). */
export function handlePubrec(_engine: Engine, conn: MqttConnection, p: IPubrecPacket): void {
  const id = p.messageId ?? 0
  const known = conn.session?.received(id, (p.reasonCode ?? 0) >= 0x80) ?? false
  if (!known && conn.protocolVersion === 5) conn.send({ cmd: 'pubrel', messageId: id, reasonCode: ReasonCode.PacketIdentifierNotFound } as never)
}
