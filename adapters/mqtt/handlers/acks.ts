// The acknowledgements of QoS 1/2 flows: PUBACK, PUBREC, PUBREL, PUBCOMP [MQTT-4.3].
import type { IPubackPacket, IPubcompPacket, IPubrecPacket, IPubrelPacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import { ReasonCode } from '../codec/reason-codes.ts'

/** PUBACK: our QoS 1 delivery arrived; it leaves the queue. */
export function handlePuback (_engine: Engine, conn: MqttConnection, p: IPubackPacket): void {
  conn.session?.completed(p.messageId ?? 0, 'publish')
}

/** PUBREC: our QoS 2 delivery arrived; PUBREL follows (none after a refusal code). */
export function handlePubrec (_engine: Engine, conn: MqttConnection, p: IPubrecPacket): void {
  const id = p.messageId ?? 0
  const known = conn.session?.received(id, (p.reasonCode ?? 0) >= 0x80) ?? false
  if (!known && conn.protocolVersion === 5) conn.send({ cmd: 'pubrel', messageId: id, reasonCode: ReasonCode.PacketIdentifierNotFound } as never)
}

/** PUBCOMP: our QoS 2 delivery is complete; its packet id is free. */
export function handlePubcomp (_engine: Engine, conn: MqttConnection, p: IPubcompPacket): void {
  conn.session?.completed(p.messageId ?? 0, 'pubrel')
}

/** PUBREL: the client's QoS 2 publish is released; the id may be used again [MQTT-4.3.3-11]. */
export function handlePubrel (engine: Engine, conn: MqttConnection, p: IPubrelPacket): void {
  const id = p.messageId ?? 0
  const session = conn.session
  const known = session?.qos2Received.delete(id) ?? false
  if (known && session?.durable === true) engine.sessions.store.deleteQos2(conn.clientId, id)
  const reasonCode = known || conn.protocolVersion !== 5 ? ReasonCode.Success : ReasonCode.PacketIdentifierNotFound
  conn.send({ cmd: 'pubcomp', messageId: id, reasonCode } as never)
}
