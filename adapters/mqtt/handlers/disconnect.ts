// DISCONNECT from the client: 0x00 deletes the will [MQTT-3.14.4-3]; any other reason (0x04, or an
// error the client reports) leaves it to be published [MQTT-3.1.2-8] [MQTT-3.1.2-10]. A new Session
// Expiry Interval may be set, but not from 0 to more: a Protocol Error (§3.14.2.2.2).
import type { IDisconnectPacket } from 'mqtt-packet'
import type { Engine } from '../engine.ts'
import type { MqttConnection } from '../connection.ts'
import { ReasonCode } from '../codec/reason-codes.ts'

export function handleDisconnect(_engine: Engine, conn: MqttConnection, p: IDisconnectPacket): void {
  const session = conn.session
  const expiry = p.properties?.sessionExpiryInterval
  if (expiry !== undefined && session !== null) {
    if (session.expirySeconds === 0 && expiry !== 0) {
      conn.protocolError('Session Expiry Interval raised from 0 at DISCONNECT')
      return
    }
    session.expirySeconds = expiry === 0xffffffff ? null : expiry
  }
  // Only Normal disconnection deletes the will; Mosquitto 2.0 deletes it for every code but 0x04.
  conn.gracefulDisconnect = (p.reasonCode ?? 0) === ReasonCode.Success
  conn.closeReason = `client DISCONNECT (0x${(p.reasonCode ?? 0).toString(16).padStart(2, '0')})`
  conn.end()
}
