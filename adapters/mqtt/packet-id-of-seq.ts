// The MQTT packet id a queue entry's seq names. The engine's outbound window gives a session's
// delivery this id, and the bridge's uplink gives it to a PUBLISH to its remote, so that a resend
// after a restart goes under its first id [MQTT-4.4.0-1] with nothing stored: the seq is stored
// with the entry.

/** Packet ids are 1..65535 [MQTT-2.2.1-3]. */
export const PACKET_ID_MAX = 65_535

export function packetIdOfSeq(seq: number): number {
  return (seq % PACKET_ID_MAX) + 1
}

/** The id after this one, wrapping to 1. */
export function nextPacketId(id: number): number {
  return id >= PACKET_ID_MAX ? 1 : id + 1
}
