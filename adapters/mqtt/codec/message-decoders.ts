// PUBLISH and its acknowledgements (PUBACK, PUBREC, PUBREL, PUBCOMP) are the packets of every
// message, so they are checked and decoded in one pass here instead of handing them to mqtt-packet,
// which costs about twice as much per packet (a BufferList, several allocations). The objects have
// mqtt-packet's shape exactly; message-decoders.test.ts compares them with mqtt-packet's own.

import type { IPubackPacket, IPublishPacket, QoS } from 'mqtt-packet'
import type { InboundPacket, Ordered } from './inbound-packet.ts'
import { noTrailingBytes, nonZeroPacketId, type CheckContext } from './packet-checks.ts'
import { PropertyId, Section } from './property-rules.ts'
import { scanProperties } from './property-scanner.ts'
import type { WireCursor } from './wire-cursor.ts'

export type MessageDecoder = (cur: WireCursor, first: number, ctx: CheckContext) => InboundPacket

const EMPTY = Buffer.alloc(0)

function decodePublish(cur: WireCursor, first: number, ctx: CheckContext): InboundPacket {
  const qos = ((first >> 1) & 3) as QoS // 3 was refused with the fixed header [MQTT-3.3.1-4]
  const packet: IPublishPacket & Ordered = {
    cmd: 'publish',
    retain: (first & 0x01) !== 0,
    qos,
    dup: (first & 0x08) !== 0,
    length: cur.left,
    topic: cur.utf8Value('Topic Name'), // [MQTT-3.3.2-1]
    payload: EMPTY
  }
  if (qos > 0) packet.messageId = nonZeroPacketId(cur)
  if (ctx.version === 5) {
    ctx.userProperties = scanProperties(cur, Section.PUBLISH, true)
    if (ctx.role === 'server' && cur.sawProperty(PropertyId.SubscriptionIdentifier)) {
      throw cur.protocolError("property 'Subscription Identifier' (0x0b) sent by a client [MQTT-3.3.4-6]")
    }
    if (cur.properties !== null) packet.properties = cur.properties
  }
  packet.payload = cur.buf.subarray(cur.pos, cur.end)
  return packet
}

type AckCmd = 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'

// The Reason Codes each may carry (§3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1).
const PUBACK_PUBREC_CODES = new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99])
const PUBREL_PUBCOMP_CODES = new Set([0x00, 0x92])

/** PUBACK, PUBREC, PUBREL, PUBCOMP: MQTT 5 may omit the Reason Code (then Success) and the properties. */
function ackDecoder(cmd: AckCmd, section: number, codes: ReadonlySet<number>, statement: string): MessageDecoder {
  const qos = cmd === 'pubrel' ? 1 : 0 // PUBREL's fixed header flags 0010 read as QoS 1, as mqtt-packet has it
  return (cur, _first, ctx) => {
    const length = cur.left
    const packet = { cmd, retain: false, qos, dup: false, length, topic: null, payload: null, messageId: cur.u16('Packet Identifier') } as IPubackPacket &
      Ordered & { cmd: AckCmd }
    if (ctx.version !== 5) {
      noTrailingBytes(cur) // 3.1.1: Remaining Length is exactly 2
      return packet
    }
    packet.reasonCode = 0
    if (cur.left === 0) return packet
    const reasonCode = cur.u8('Reason Code')
    if (!codes.has(reasonCode)) throw cur.malformed(`Reason Code 0x${reasonCode.toString(16)} is not a ${cur.packet} Reason Code ${statement}`)
    packet.reasonCode = reasonCode
    if (cur.left === 0) return packet // Remaining Length 3: no properties
    ctx.userProperties = scanProperties(cur, section, true)
    if (cur.properties !== null) packet.properties = cur.properties
    noTrailingBytes(cur)
    return packet
  }
}

/** Indexed by packet type; the types not here are checked by PACKET_CHECKS and decoded by mqtt-packet. */
export const MESSAGE_DECODERS: ReadonlyArray<MessageDecoder | undefined> = [
  undefined,
  undefined,
  undefined,
  decodePublish,
  ackDecoder('puback', Section.PUBACK, PUBACK_PUBREC_CODES, '[MQTT-3.4.2-1]'),
  ackDecoder('pubrec', Section.PUBREC, PUBACK_PUBREC_CODES, '[MQTT-3.5.2-1]'),
  ackDecoder('pubrel', Section.PUBREL, PUBREL_PUBCOMP_CODES, '[MQTT-3.6.2-1]'),
  ackDecoder('pubcomp', Section.PUBCOMP, PUBREL_PUBCOMP_CODES, '[MQTT-3.7.2-1]'),
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined
]
