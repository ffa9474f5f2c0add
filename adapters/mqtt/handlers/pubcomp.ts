// PUBCOMP: our QoS 2 delivery is complete; its packet id is free (MQTT 5 §4.3).
import type { IPubcompPacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'

/** PUBCOMP: our QoS 2 delivery is complete; its packet id is free. */
export function handlePubcomp(_engine: Engine, conn: MqttConnection, p: IPubcompPacket): void {
  conn.session?.completed(p.messageId ?? 0, 'pubrel')
}
