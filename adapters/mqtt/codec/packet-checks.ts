// One check per packet type, dispatched from PACKET_CHECKS. Each reads its packet field by field
// before mqtt-packet decodes it: it finds the property sections (mqtt-packet cannot say where they
// are, or whether they are valid), checks every UTF-8 string, and enforces the rules mqtt-packet
// lets through. A check throws MqttCodecError; it never allocates except for User Properties.

import { MqttCodecError } from './codec-error.ts'
import { PropertyId, Section } from './property-rules.ts'
import { scanProperties, type UserPropertyList } from './property-scanner.ts'
import { ReasonCode } from './reason-codes.ts'
import type { WireCursor } from './wire-cursor.ts'

export type ProtocolVersion = 3 | 4 | 5

/** State the checks read and write; the reader owns one and reuses it for every packet. */
export interface CheckContext {
  /** The connection's protocol version, 0 until known; the CONNECT check sets it. */
  version: 0 | ProtocolVersion
  /** CONNECT Protocol Level had bit 7 set (a bridge, as mosquitto sends and mqtt-packet reads). */
  bridge: boolean
  /** Which end of the connection reads: the server reads what clients send. */
  role: 'server' | 'client'
  userProperties: UserPropertyList | null
  willUserProperties: UserPropertyList | null
}

export type PacketCheck = (cur: WireCursor, flags: number, ctx: CheckContext) => void

export const PACKET_NAMES: readonly string[] = [
  'reserved type 0',
  'CONNECT',
  'CONNACK',
  'PUBLISH',
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
  'PINGREQ',
  'PINGRESP',
  'DISCONNECT',
  'AUTH'
]

export function noTrailingBytes(cur: WireCursor): void {
  if (cur.left !== 0) throw cur.malformed(`${cur.left} bytes after the last field`)
}

export function nonZeroPacketId(cur: WireCursor): number {
  // [MQTT-2.2.1-3] SUBSCRIBE, UNSUBSCRIBE and PUBLISH (QoS > 0) carry a non-zero Packet Identifier.
  const id = cur.u16('Packet Identifier')
  if (id === 0) throw cur.protocolError('Packet Identifier 0 [MQTT-2.2.1-3]')
  return id
}

function checkConnect(cur: WireCursor, _flags: number, ctx: CheckContext): void {
  const name = cur.utf8Value('Protocol Name')
  const level = cur.u8('Protocol Level')
  const version = level & 0x7f
  if (!((name === 'MQTT' && (version === 4 || version === 5)) || (name === 'MQIsdp' && version === 3))) {
    // [MQTT-3.1.2-1] [MQTT-3.1.2-2]: the server may answer CONNACK 0x84 (3.1.1: return code 1), then closes.
    throw new MqttCodecError(ReasonCode.UnsupportedProtocolVersion, `CONNECT: protocol '${name}' level ${level} is not supported [MQTT-3.1.2-2]`)
  }
  ctx.version = version
  ctx.bridge = level >= 0x80
  const flags = cur.u8('Connect Flags')
  if ((flags & 0x01) !== 0) throw cur.malformed('reserved Connect Flag bit 0 is set [MQTT-3.1.2-3]')
  const will = (flags & 0x04) !== 0
  const willQos = (flags >> 3) & 3
  if (!will && (willQos !== 0 || (flags & 0x20) !== 0)) throw cur.malformed('Will QoS or Will Retain set without the Will Flag [MQTT-3.1.2-11] [MQTT-3.1.2-13]')
  if (willQos === 3) throw cur.malformed('Will QoS 3 [MQTT-3.1.2-12]')
  const username = (flags & 0x80) !== 0
  const password = (flags & 0x40) !== 0
  // 3.1.1 [MQTT-3.1.2-22]; MQTT 5 allows a Password without a User Name.
  if (version < 5 && password && !username) throw cur.malformed('Password Flag set without the User Name Flag [MQTT-3.1.2-22]')
  cur.u16('Keep Alive')
  if (version === 5) ctx.userProperties = scanProperties(cur, Section.CONNECT)
  cur.utf8('Client Identifier') // [MQTT-3.1.3-4]
  if (will) {
    if (version === 5) ctx.willUserProperties = scanProperties(cur, Section.WILL)
    cur.utf8('Will Topic') // [MQTT-3.1.3-11]
    cur.binary('Will Payload')
  }
  if (username) cur.utf8('User Name') // [MQTT-3.1.3-12]
  if (password) cur.binary('Password')
  noTrailingBytes(cur)
}

function checkConnack(cur: WireCursor, _flags: number, ctx: CheckContext): void {
  if ((cur.u8('Connect Acknowledge Flags') & 0xfe) !== 0) throw cur.malformed('reserved Connect Acknowledge Flags are set [MQTT-3.2.2-1]')
  cur.u8('Reason Code')
  if (ctx.version === 5) ctx.userProperties = scanProperties(cur, Section.CONNACK)
  noTrailingBytes(cur)
}

function checkSubscribe(cur: WireCursor, _flags: number, ctx: CheckContext): void {
  nonZeroPacketId(cur)
  if (ctx.version === 5) ctx.userProperties = scanProperties(cur, Section.SUBSCRIBE)
  // [MQTT-3.8.3-2] (3.1.1: [MQTT-3.8.3-3]) at least one Topic Filter.
  if (cur.left === 0) throw cur.protocolError('no Topic Filter [MQTT-3.8.3-2]')
  while (cur.left > 0) {
    cur.utf8('Topic Filter') // [MQTT-3.8.3-1]
    const options = cur.u8('Subscription Options')
    if (ctx.version !== 5) {
      // 3.1.1 [MQTT-3-8.3-4]: reserved bits or QoS 3 are malformed.
      if ((options & 0xfc) !== 0 || options === 3) throw cur.malformed(`Requested QoS byte 0x${options.toString(16)} [MQTT-3-8.3-4]`)
      continue
    }
    if ((options & 0xc0) !== 0) throw cur.malformed('reserved Subscription Options bits are set [MQTT-3.8.3-5]')
    if ((options & 0x03) === 3) throw cur.protocolError('Maximum QoS 3 in Subscription Options (§3.8.3.1)')
    if ((options & 0x30) === 0x30) throw cur.protocolError('Retain Handling 3 in Subscription Options (§3.8.3.1)')
  }
}

function checkSuback(cur: WireCursor, _flags: number, ctx: CheckContext): void {
  cur.u16('Packet Identifier')
  if (ctx.version === 5) ctx.userProperties = scanProperties(cur, Section.SUBACK)
  if (cur.left === 0) throw cur.protocolError('no Reason Code (§3.9.3)')
  cur.pos = cur.end // the codes themselves are checked by mqtt-packet
}

function checkUnsubscribe(cur: WireCursor, _flags: number, ctx: CheckContext): void {
  nonZeroPacketId(cur)
  if (ctx.version === 5) ctx.userProperties = scanProperties(cur, Section.UNSUBSCRIBE)
  if (cur.left === 0) throw cur.protocolError('no Topic Filter [MQTT-3.10.3-2]')
  while (cur.left > 0) cur.utf8('Topic Filter') // [MQTT-3.10.3-1]
}

function checkUnsuback(cur: WireCursor, _flags: number, ctx: CheckContext): void {
  cur.u16('Packet Identifier')
  if (ctx.version !== 5) return noTrailingBytes(cur)
  ctx.userProperties = scanProperties(cur, Section.UNSUBACK)
  if (cur.left === 0) throw cur.protocolError('no Reason Code (§3.11.3)')
  cur.pos = cur.end
}

function checkEmpty(cur: WireCursor): void {
  if (cur.left !== 0) throw cur.malformed(`Remaining Length ${cur.left}, must be 0`)
}

function checkDisconnect(cur: WireCursor, _flags: number, ctx: CheckContext): void {
  if (ctx.version !== 5) return checkEmpty(cur)
  if (cur.left === 0) return // §3.14.2.1: no Reason Code means 0x00 Normal disconnection
  cur.u8('Reason Code')
  if (cur.left === 0) return
  ctx.userProperties = scanProperties(cur, Section.DISCONNECT)
  if (ctx.role === 'client' && cur.sawProperty(PropertyId.SessionExpiryInterval)) {
    throw cur.protocolError("property 'Session Expiry Interval' (0x11) sent by a server [MQTT-3.14.2-2]")
  }
  noTrailingBytes(cur)
}

function checkAuth(cur: WireCursor, _flags: number, ctx: CheckContext): void {
  if (cur.left === 0) return // §3.15.2.1: Remaining Length 0 means 0x00 Success, no properties
  cur.u8('Reason Code')
  if (cur.left === 0) return
  ctx.userProperties = scanProperties(cur, Section.AUTH)
  noTrailingBytes(cur)
}

/**
 * Indexed by MQTT Control Packet type (the high nibble of the first byte). PUBLISH and its acks are
 * checked while they are decoded, in message-decoders.ts.
 */
export const PACKET_CHECKS: ReadonlyArray<PacketCheck | undefined> = [
  undefined,
  checkConnect,
  checkConnack,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  checkSubscribe,
  checkSuback,
  checkUnsubscribe,
  checkUnsuback,
  checkEmpty,
  checkEmpty,
  checkDisconnect,
  checkAuth
]
