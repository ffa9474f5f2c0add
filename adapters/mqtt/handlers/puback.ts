// PUBACK: our QoS 1 delivery arrived; it leaves the queue and frees a place in the window (MQTT 5 §4.3).
import type { IPubackPacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'

/** PUBACK: our QoS 1 delivery arrived; it leaves the queue. */
export function handlePuback(_engine: Engine, conn: MqttConnection, p: IPubackPacket): void {
  if (conn.session?.completed(p.messageId ?? 0, 'publish') === true) conn.messages.ack++
}
