// A CONNACK within the client's Maximum Packet Size [MQTT-3.1.2-24]. Wharf's CONNACK states its
// capabilities even where they are the spec's defaults (24 bytes, more with a Reason String or User
// Property), so a client asking for small packets was sent one larger than it allowed. What goes, in
// order, until it fits: the properties that only restate a default (nothing changes for the
// client), then the Reason String and User Properties [MQTT-3.2.2-19] [MQTT-3.2.2-20], then Topic
// Alias Maximum (a client told none sends no alias [MQTT-3.2.2-18]). The rest (Maximum Packet Size,
// Maximum QoS, Server Keep Alive, Assigned Client Identifier, authentication) the client must hear:
// when even they do not fit, there is no CONNACK to send, and the caller closes the connection, as
// Mosquitto does.
import type { IConnackPacket } from 'mqtt-packet'
import { encodePacket } from './packet-writer.ts'

/** Each property whose value here is what its absence means (MQTT 5 §3.2.2.3). */
const DEFAULTS: Readonly<Record<string, unknown>> = {
  receiveMaximum: 65535,
  topicAliasMaximum: 0,
  retainAvailable: true,
  wildcardSubscriptionAvailable: true,
  subscriptionIdentifiersAvailable: true,
  sharedSubscriptionAvailable: true
}

type ConnackProperties = NonNullable<IConnackPacket['properties']>

/** The CONNACK itself when it fits in maxBytes, else it with the fewest properties left out that make it fit; null when none does. */
export function connackWithin(packet: IConnackPacket, maxBytes: number): IConnackPacket | null {
  const fits = (p: IConnackPacket): boolean => encodePacket(p as never, 5).length <= maxBytes
  if (fits(packet)) return packet
  let props: Record<string, unknown> = { ...packet.properties }
  const steps: Array<(p: Record<string, unknown>) => Record<string, unknown>> = [
    p => Object.fromEntries(Object.entries(p).filter(([k, v]) => !(k in DEFAULTS) || DEFAULTS[k] !== v)),
    ({ reasonString: _r, userProperties: _u, ...rest }) => rest,
    ({ topicAliasMaximum: _t, ...rest }) => rest
  ]
  for (const step of steps) {
    props = step(props)
    const smaller = { ...packet, properties: props as ConnackProperties }
    if (fits(smaller)) return smaller
  }
  return null
}
