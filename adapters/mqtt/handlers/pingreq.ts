// PINGREQ: PINGRESP [MQTT-3.12.4-1]; any packet already counted as keep-alive activity.
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'

export function handlePingreq(_engine: Engine, conn: MqttConnection): void {
  conn.send({ cmd: 'pingresp' })
}
