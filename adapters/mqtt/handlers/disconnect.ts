// DISCONNECT from the client: 0x00 deletes the will [MQTT-3.14.4-3], 0x04 publishes it; a new
// Session Expiry Interval may be set, but not from 0 to more [MQTT-3.14.2-2].
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
  conn.gracefulDisconnect = (p.reasonCode ?? 0) !== ReasonCode.DisconnectWithWillMessage
  conn.closeReason = `client DISCONNECT (0x${(p.reasonCode ?? 0).toString(16).padStart(2, '0')})`
  conn.end()
}
