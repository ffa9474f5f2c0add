// Encodes outbound MQTT packets. PUBLISH, the hot path, is written by hand into one exactly sized
// Buffer; every other packet goes through mqtt-packet's generate.

import mqttPacket from 'mqtt-packet'
import type { IPublishPacket, Packet, UserProperties } from 'mqtt-packet'

// mqtt-packet's writer otherwise builds a cache of 65,536 two-byte Buffers (about 7 MB of heap) at
// its first generate(); it serves the packets this module leaves to mqtt-packet (CONNACK, SUBACK,
// ...), none of them on a hot path.
;(mqttPacket.writeToStream as unknown as { cacheNumbers: boolean }).cacheNumbers = false
import type { ProtocolVersion } from './packet-checks.ts'
import type { UserPropertyList } from './property-scanner.ts'

// mqtt-packet's number cache is 65,536 two-byte Buffers made on the first generate: 6 MB of heap for
// the process, measured, to save an allocation on packets that are not the hot path here (PUBLISH and
// its acks are written by hand).
mqttPacket.writeToStream.cacheNumbers = false

export interface PublishProperties {
  payloadFormatIndicator?: 0 | 1 | undefined
  messageExpiryInterval?: number | undefined
  topicAlias?: number | undefined
  responseTopic?: string | undefined
  correlationData?: Buffer | undefined
  /** Written in this order; a name may repeat [MQTT-3.3.2-18]. */
  userProperties?: UserPropertyList | undefined
  /** Each written as its own Subscription Identifier property (0x0B) [MQTT-3.3.4-4]. */
  subscriptionIdentifiers?: readonly number[] | undefined
  contentType?: string | undefined
}

export interface PublishOut {
  /** '' when a Topic Alias already known to the client stands for it (MQTT 5 only). */
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
  dup: boolean
  /** Required for QoS 1 and 2 (mqtt-packet calls it messageId). */
  packetId?: number | undefined
  /** Written for MQTT 5 only. */
  properties?: PublishProperties | undefined
}

/** mqtt-packet's packet, where a properties.userProperties may also be a wire-order list. */
type WithUserPropertyList<P> = P extends { properties?: infer Props }
  ? 'properties' extends keyof P
    ? Omit<P, 'properties'> & { properties?: Omit<NonNullable<Props>, 'userProperties'> & { userProperties?: UserProperties | UserPropertyList } }
    : P
  : P

export type OutboundPacket = (PublishOut & { cmd: 'publish' }) | WithUserPropertyList<Exclude<Packet, IPublishPacket>>

const VARINT_MAX = 268_435_455

/**
 * Encodes any packet for a connection speaking protocolVersion. User Properties given as a list
 * are handed to mqtt-packet as its object form, which groups values by name: a=1, b=2, a=3 goes
 * out as a=1, a=3, b=2. The spec requires the order only for PUBLISH [MQTT-3.3.2-18], which keeps it.
 */
export function encodePacket(packet: OutboundPacket, protocolVersion: ProtocolVersion): Buffer {
  if (packet.cmd === 'publish') return encodePublish(packet, protocolVersion)
  if (ACK_TYPES[packet.cmd] !== undefined && (packet as { properties?: unknown }).properties === undefined) {
    return encodeAck(packet as AckOut, protocolVersion)
  }
  return mqttPacket.generate(forMqttPacket(packet, protocolVersion), { protocolVersion })
}

interface AckOut {
  cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'
  messageId?: number
  reasonCode?: number
}

// First byte of each ack; PUBREL's flags are 0010 [MQTT-3.6.1-1].
const ACK_TYPES: Partial<Record<string, number>> = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 }

/**
 * An ack without properties, written by hand: one per QoS 1/2 message, and mqtt-packet's generate
 * takes ~2 µs for it. A non-zero MQTT 5 reason goes out with Remaining Length 3 (no Property
 * Length, §3.4.2.2.1), where mqtt-packet would add an empty one.
 */
function encodeAck(packet: AckOut, protocolVersion: ProtocolVersion): Buffer {
  const id = packet.messageId
  if (id === undefined || !Number.isInteger(id) || id < 1 || id > 0xffff) throw new Error(`encodePacket: ${packet.cmd} needs a messageId 1..65535, got ${id}`)
  const reasonCode = protocolVersion === 5 ? (packet.reasonCode ?? 0) : 0
  const buf = Buffer.allocUnsafe(reasonCode === 0 ? 4 : 5)
  buf[0] = ACK_TYPES[packet.cmd] as number
  buf[1] = buf.length - 2
  buf[2] = id >> 8
  buf[3] = id & 0xff
  if (reasonCode !== 0) buf[4] = reasonCode
  return buf
}

// A missing reasonCode means Success; mqtt-packet would write Buffer.from([undefined]), which is 0 by accident.
const REASON_DEFAULTS_TO_SUCCESS = new Set(['puback', 'pubrec', 'pubrel', 'pubcomp', 'disconnect', 'auth'])

function forMqttPacket(packet: Exclude<OutboundPacket, { cmd: 'publish' }>, protocolVersion: ProtocolVersion): Packet {
  const out: Record<string, unknown> = { ...packet }
  if (packet.cmd === 'connect') {
    // mqtt-packet takes a CONNECT's version from the packet, not from its options.
    out.protocolVersion ??= protocolVersion
    out.protocolId ??= protocolVersion === 3 ? 'MQIsdp' : 'MQTT'
  }
  if (protocolVersion === 5 && REASON_DEFAULTS_TO_SUCCESS.has(packet.cmd)) out.reasonCode ??= 0
  const props = (packet as { properties?: { userProperties?: unknown } }).properties
  if (props !== undefined && Array.isArray(props.userProperties)) {
    out.properties = { ...props, userProperties: userPropertiesObject(props.userProperties as UserPropertyList) }
  }
  return out as unknown as Packet
}

/** The object form mqtt-packet writes: a repeated name becomes an array of its values. */
export function userPropertiesObject(list: UserPropertyList): UserProperties {
  const out: Record<string, string | string[]> = Object.create(null)
  for (const [name, value] of list) {
    const prev = out[name]
    if (prev === undefined) out[name] = value
    else if (typeof prev === 'string') out[name] = [prev, value]
    else prev.push(value)
  }
  return out
}

// Sizes found by measurePublish for the encodePublish that called it (synchronous, so never shared).
let topicBytes = 0
let propertiesBytes = 0

/**
 * The size in bytes of the PUBLISH that encodePublish would write, without writing it: what the
 * engine compares with the client's Maximum Packet Size before sending [MQTT-3.1.2-24].
 */
export function publishPacketBytes(p: PublishOut, protocolVersion: ProtocolVersion): number {
  const remaining = measurePublish(p, protocolVersion)
  return 1 + varintBytes(remaining) + remaining
}

export function encodePublish(p: PublishOut, protocolVersion: ProtocolVersion): Buffer {
  const remaining = measurePublish(p, protocolVersion)
  const buf = Buffer.allocUnsafe(1 + varintBytes(remaining) + remaining)
  buf[0] = 0x30 | (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 0x01 : 0)
  let o = writeVarint(buf, 1, remaining)
  buf[o] = topicBytes >> 8
  buf[o + 1] = topicBytes & 0xff
  o += 2
  o += writeUtf8(buf, o, p.topic)
  if (p.qos > 0) {
    const id = p.packetId as number
    buf[o] = id >> 8
    buf[o + 1] = id & 0xff
    o += 2
  }
  if (protocolVersion === 5) {
    o = writeVarint(buf, o, propertiesBytes)
    if (p.properties !== undefined) o = writeProperties(buf, o, p.properties)
  }
  p.payload.copy(buf, o)
  return buf
}

/** Checks p (a bad one is a programming error, so it throws) and returns its Remaining Length. */
function measurePublish(p: PublishOut, protocolVersion: ProtocolVersion): number {
  topicBytes = stringBytes(p.topic, 'topic')
  propertiesBytes = 0
  let remaining = 2 + topicBytes + p.payload.length
  if (p.qos > 0) {
    const id = p.packetId
    // [MQTT-2.2.1-3] a QoS 1 or 2 PUBLISH carries a non-zero Packet Identifier.
    if (id === undefined || !Number.isInteger(id) || id < 1 || id > 0xffff) throw new Error(`encodePublish: QoS ${p.qos} needs a packetId 1..65535, got ${id}`)
    remaining += 2
  }
  if (protocolVersion === 5) {
    const props = p.properties
    if (props !== undefined) propertiesBytes = measureProperties(props)
    // §3.3.2.1: a zero-length Topic Name is allowed only with a Topic Alias.
    if (topicBytes === 0 && props?.topicAlias === undefined) throw new Error('encodePublish: empty topic without a topicAlias')
    remaining += varintBytes(propertiesBytes) + propertiesBytes
  } else if (topicBytes === 0) {
    throw new Error('encodePublish: empty topic (topic aliases are MQTT 5 only)')
  }
  if (remaining > VARINT_MAX) throw new Error(`encodePublish: packet of ${remaining} bytes exceeds the MQTT maximum`)
  return remaining
}

function measureProperties(props: PublishProperties): number {
  let n = 0
  if (props.payloadFormatIndicator !== undefined) n += 2
  if (props.messageExpiryInterval !== undefined) {
    checkRange(props.messageExpiryInterval, 0, 0xffffffff, 'messageExpiryInterval')
    n += 5
  }
  if (props.topicAlias !== undefined) {
    checkRange(props.topicAlias, 1, 0xffff, 'topicAlias') // [MQTT-3.3.2-8]
    n += 3
  }
  if (props.responseTopic !== undefined) n += 3 + stringBytes(props.responseTopic, 'responseTopic')
  if (props.correlationData !== undefined) n += 3 + binaryBytes(props.correlationData, 'correlationData')
  const user = props.userProperties
  if (user !== undefined) {
    for (let i = 0; i < user.length; i++) {
      const pair = user[i] as [string, string]
      n += 5 + stringBytes(pair[0], 'user property name') + stringBytes(pair[1], 'user property value')
    }
  }
  const ids = props.subscriptionIdentifiers
  if (ids !== undefined) {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number
      checkRange(id, 1, VARINT_MAX, 'subscriptionIdentifier')
      n += 1 + varintBytes(id)
    }
  }
  if (props.contentType !== undefined) n += 3 + stringBytes(props.contentType, 'contentType')
  return n
}

function writeProperties(buf: Buffer, o: number, props: PublishProperties): number {
  if (props.payloadFormatIndicator !== undefined) {
    buf[o++] = 0x01
    buf[o++] = props.payloadFormatIndicator
  }
  if (props.messageExpiryInterval !== undefined) {
    buf[o++] = 0x02
    o = buf.writeUInt32BE(props.messageExpiryInterval, o)
  }
  if (props.topicAlias !== undefined) {
    buf[o++] = 0x23
    o = buf.writeUInt16BE(props.topicAlias, o)
  }
  if (props.responseTopic !== undefined) o = writeString(buf, o, 0x08, props.responseTopic)
  if (props.correlationData !== undefined) {
    buf[o++] = 0x09
    o = buf.writeUInt16BE(props.correlationData.length, o)
    o += props.correlationData.copy(buf, o)
  }
  const user = props.userProperties
  if (user !== undefined) {
    for (let i = 0; i < user.length; i++) {
      const pair = user[i] as [string, string]
      o = writeString(buf, o, 0x26, pair[0])
      o = writeString(buf, o, -1, pair[1])
    }
  }
  const ids = props.subscriptionIdentifiers
  if (ids !== undefined) {
    for (let i = 0; i < ids.length; i++) {
      buf[o++] = 0x0b
      o = writeVarint(buf, o, ids[i] as number)
    }
  }
  if (props.contentType !== undefined) o = writeString(buf, o, 0x03, props.contentType)
  return o
}

/** Writes an optional identifier byte (-1: none), then a UTF-8 string with its 2-byte length. */
function writeString(buf: Buffer, o: number, id: number, s: string): number {
  if (id >= 0) buf[o++] = id
  const n = writeUtf8(buf, o + 2, s)
  buf[o] = n >> 8
  buf[o + 1] = n & 0xff
  return o + 2 + n
}

// Short ASCII strings (most topics and property names) are copied in JS: cheaper than a call
// into Buffer's native UTF-8 code for each one.
const SHORT_STRING = 48

function writeUtf8(buf: Buffer, o: number, s: string): number {
  const n = s.length
  if (n <= SHORT_STRING) {
    let i = 0
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) break
      buf[o + i] = c
    }
    if (i === n) return n
  }
  return n === 0 ? 0 : buf.write(s, o)
}

function utf8Bytes(s: string): number {
  const n = s.length
  if (n <= SHORT_STRING) {
    let i = 0
    while (i < n && s.charCodeAt(i) < 0x80) i++
    if (i === n) return n
  }
  return Buffer.byteLength(s)
}

function stringBytes(s: string, field: string): number {
  const n = utf8Bytes(s)
  if (n > 0xffff) throw new Error(`encodePublish: ${field} is ${n} bytes, more than 65535`)
  return n
}

function binaryBytes(b: Buffer, field: string): number {
  if (b.length > 0xffff) throw new Error(`encodePublish: ${field} is ${b.length} bytes, more than 65535`)
  return b.length
}

function checkRange(v: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`encodePublish: ${field} ${v} is outside ${min}..${max}`)
}

function varintBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4
}

function writeVarint(buf: Buffer, o: number, n: number): number {
  do {
    const b = n % 128
    n = Math.floor(n / 128)
    buf[o++] = n > 0 ? b | 0x80 : b
  } while (n > 0)
  return o
}
