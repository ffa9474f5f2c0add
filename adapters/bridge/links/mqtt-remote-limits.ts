// What an MQTT 5 remote says in its CONNACK it does not take, and how the uplink sends within it. A
// client must not publish above the server's Maximum QoS [MQTT-3.2.2-11] nor with RETAIN 1 when
// Retain Available is 0 [MQTT-3.2.2-14]; Mosquitto (max_qos, retain_available false) answers such a
// PUBLISH with DISCONNECT 0x9B / 0x9A, so the bridge sent the same message at every reconnect and
// never got past it. As Mosquitto's own bridge does, the uplink sends at the remote's Maximum QoS
// and clears the retain flag; a remote whose Maximum QoS is 0 could confirm nothing, and the bridge
// deletes only what the remote confirmed, so it does not send to it at QoS 0 unless told to
// (mqtt.qos: 0).
import type { IConnackPacket } from 'mqtt'
import { RemoteMismatch } from './link.ts'

export interface UplinkLimits {
  /** The QoS the uplink publishes at: the bridge's, or the remote's Maximum QoS when lower. */
  readonly qos: 0 | 1 | 2
  /** false: the remote takes no retained messages, the uplink clears the retain flag. */
  readonly retainAvailable: boolean
  /** What the bridge does differently for this remote, one line each (logged at connect, in /api/bridges). */
  readonly notes: readonly string[]
}

export function uplinkLimits(connack: IConnackPacket, qos: 0 | 1 | 2, uplink: boolean): UplinkLimits {
  const p = connack.properties
  const notes: string[] = []
  const maximumQoS = p?.maximumQoS ?? 2
  let sendQos = qos
  if (maximumQoS < qos) {
    if (maximumQoS === 0 && uplink)
      throw new RemoteMismatch(
        `the remote's Maximum QoS is 0 (CONNACK): it cannot confirm a message, and the bridge deletes only what the remote confirmed; set mqtt.qos: 0 to send without confirms`
      )
    sendQos = maximumQoS === 0 ? 0 : 1
    notes.push(`the remote's Maximum QoS is ${maximumQoS} (CONNACK): messages go up at QoS ${sendQos}, not mqtt.qos ${qos}`)
  }
  const retainAvailable = p?.retainAvailable !== false
  if (!retainAvailable) notes.push('the remote takes no retained messages (CONNACK Retain Available 0): retained messages go up without the retain flag')
  return { qos: sendQos, retainAvailable, notes }
}
