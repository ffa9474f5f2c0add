/**
 * The few MQTT 3.1.1 packets the idle-connections clients exchange, encoded by hand: thousands of
 * raw sockets cost the generator far less than as many mqtt.js clients, whose per-client cost
 * would dominate the client side.
 */

/** CONNACK, session present 0, return code 0 (accepted) [MQTT-3.2.2-1]. */
export const CONNACK_ACCEPTED = Buffer.from([0x20, 0x02, 0x00, 0x00])
/** DISCONNECT (section 3.14): the broker discards the will and ends the clean session. */
export const DISCONNECT = Buffer.from([0xe0, 0x00])

const PUBLISH = 0x30
const PUBACK = 0x40
const SUBACK = 0x90

/** Variable byte integer of the fixed header [MQTT-2.2.3]. */
function remainingLength(n: number): Buffer {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

function utf8String(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8')
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes])
}

function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body])
}

/** CONNECT, protocol level 4, clean session, no will, no credentials [MQTT-3.1]. */
export function encodeConnect(clientId: string, keepAliveS: number): Buffer {
  const cleanSession = 0x02
  const header = Buffer.concat([utf8String('MQTT'), Buffer.from([0x04, cleanSession, keepAliveS >> 8, keepAliveS & 0xff])])
  return packet(0x10, Buffer.concat([header, utf8String(clientId)]))
}

/** SUBSCRIBE to one filter; the fixed header's flags are 0010 [MQTT-3.8.1-1]. */
export function encodeSubscribe(packetId: number, filter: string, qos: 0 | 1 | 2): Buffer {
  return packet(0x82, Buffer.concat([Buffer.from([packetId >> 8, packetId & 0xff]), utf8String(filter), Buffer.from([qos])]))
}

/** The SUBACK that grants one subscription at `qos` [MQTT-3.9.3]. */
export function subackGranting(packetId: number, qos: 0 | 1 | 2): Buffer {
  return Buffer.from([SUBACK, 0x03, packetId >> 8, packetId & 0xff, qos])
}

/** PUBLISH at QoS 1, not retained, not a duplicate. */
export function encodePublishQos1(packetId: number, topic: string, payload: Buffer): Buffer {
  return packet(PUBLISH | 0x02, Buffer.concat([utf8String(topic), Buffer.from([packetId >> 8, packetId & 0xff]), payload]))
}

export function encodePuback(packetId: number): Buffer {
  return Buffer.from([PUBACK, 0x02, packetId >> 8, packetId & 0xff])
}

/** The complete packets at the start of `bytes`, and what is left of an incomplete one. */
export function splitPackets(bytes: Buffer): { packets: Buffer[]; rest: Buffer } {
  const packets: Buffer[] = []
  let offset = 0
  for (;;) {
    let length = 0
    let multiplier = 1
    let cursor = offset + 1
    let complete = false
    while (cursor < bytes.length && cursor - offset <= 4) {
      const byte = bytes[cursor++] ?? 0
      length += (byte & 0x7f) * multiplier
      multiplier *= 128
      if ((byte & 0x80) === 0) {
        complete = true
        break
      }
    }
    if (!complete || cursor + length > bytes.length) return { packets, rest: bytes.subarray(offset) }
    packets.push(bytes.subarray(offset, cursor + length))
    offset = cursor + length
  }
}

export interface InboundPublish {
  readonly topic: string
  readonly qos: number
  /** 0 at QoS 0. */
  readonly packetId: number
  readonly payload: Buffer
}

/** A PUBLISH packet as splitPackets returns it; undefined for any other packet type. */
export function readPublish(packetBytes: Buffer): InboundPublish | undefined {
  const first = packetBytes[0] ?? 0
  if ((first & 0xf0) !== PUBLISH) return undefined
  const qos = (first >> 1) & 0x03
  let offset = 1
  while (((packetBytes[offset++] ?? 0) & 0x80) !== 0);
  const topicLength = packetBytes.readUInt16BE(offset)
  const topic = packetBytes.toString('utf8', offset + 2, offset + 2 + topicLength)
  offset += 2 + topicLength
  const packetId = qos === 0 ? 0 : packetBytes.readUInt16BE(offset)
  return { topic, qos, packetId, payload: packetBytes.subarray(qos === 0 ? offset : offset + 2) }
}

export function isPuback(packetBytes: Buffer): boolean {
  return packetBytes[0] === PUBACK
}
