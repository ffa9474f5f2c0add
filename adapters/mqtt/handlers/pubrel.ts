// PUBREL: the client's QoS 2 publish is released; its packet id may be used again [MQTT-4.3.3-11].
import type { IPubrelPacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import { ReasonCode } from '../codec/reason-codes.ts'

/** PUBREL: the client's QoS 2 publish is released; the id may be used again [MQTT-4.3.3-11]. */
export function handlePubrel(engine: Engine, conn: MqttConnection, p: IPubrelPacket): void {
  const id = p.messageId ?? 0
  const session = conn.session
  const known = session?.qos2Received.delete(id) ?? false
  if (known && session?.durable === true) engine.sessions.store.deleteQos2(conn.clientId, id)
  const reasonCode = known || conn.protocolVersion !== 5 ? ReasonCode.Success : ReasonCode.PacketIdentifierNotFound
  conn.send({ cmd: 'pubcomp', messageId: id, reasonCode } as never)
}
