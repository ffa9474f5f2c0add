// Reads MQTT packets from a byte stream: frames them itself (so an oversize packet is refused from
// its fixed header, before its body is buffered), checks each packet's structure and MQTT 5
// property sections on the raw bytes (packet-checks.ts), then lets mqtt-packet decode it; PUBLISH
// and its acks are checked and decoded in one pass by message-decoders.ts instead.
//
// A packet that arrives whole inside one chunk is decoded in place, without a copy: the Buffers in
// it (PUBLISH payload, correlation data, password) are views into that chunk. The engine copies
// one (Buffer.from) before holding it past the current turn, or it keeps the whole chunk alive.

import { parseWhole } from './shared-parser.ts'
import type { IAuthPacket } from 'mqtt-packet'
import { MqttCodecError } from './codec-error.ts'
import type { InboundPacket } from './inbound-packet.ts'
import { MESSAGE_DECODERS } from './message-decoders.ts'
import { PACKET_CHECKS, PACKET_NAMES, type CheckContext, type ProtocolVersion } from './packet-checks.ts'
import type { UserPropertyList } from './property-scanner.ts'
import { ReasonCode } from './reason-codes.ts'
import { WireCursor } from './wire-cursor.ts'

export { MqttCodecError }
export type { InboundPacket, ProtocolVersion, UserPropertyList }

/**
 * Where packets and codec errors go. An object with methods (the engine's connection is one), not two
 * callbacks: closures per connection cost an idle client ~0.2 KB of heap.
 */
export interface PacketSink {
  packetRead(packet: InboundPacket): void
  packetFailed(err: MqttCodecError): void
}

export interface MqttPacketReaderOptions {
  /** Largest packet accepted, fixed header included; larger is 0x95 Packet too large. */
  maxPacketBytes: number
  /** Takes the packets and errors; else onPacket and onError do. */
  sink?: PacketSink
  onPacket?: (packet: InboundPacket) => void
  onError?: (err: MqttCodecError) => void
  /** 'server' (default) reads what clients send; 'client' reads what a server sends. */
  role?: 'server' | 'client'
  /** Needed by the client role (a CONNACK does not carry the version); the server learns it from CONNECT. */
  protocolVersion?: ProtocolVersion
}

// Fixed header flags each type must carry (§2.1.3 Table 2-2); PUBLISH's are its DUP, QoS, RETAIN.
const REQUIRED_FLAGS = [0, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0]
const SENT_BY_SERVERS = (1 << 2) | (1 << 9) | (1 << 11) | (1 << 13) // CONNACK SUBACK UNSUBACK PINGRESP
const SENT_BY_CLIENTS = (1 << 1) | (1 << 8) | (1 << 10) | (1 << 12) // CONNECT SUBSCRIBE UNSUBSCRIBE PINGREQ
const LENGTH_MULTIPLIERS = [1, 128, 16_384, 2_097_152]

const EMPTY_CHUNK = Buffer.alloc(0)

export class MqttPacketReader {
  sink: PacketSink

  private readonly maxPacketBytes: number
  private readonly ctx: CheckContext
  private readonly cur = new WireCursor()
  private done = false // after an error or stop(): nothing more is delivered
  private opened = false // the CONNECT (server role) or CONNACK (client role) has begun

  // The fixed header of the packet being framed.
  private first = 0
  private headerBytes = 0 // read so far; 0 between packets
  private headerDone = false
  private remaining = 0

  // hold(): no packet is delivered until release(); the bytes not read yet wait here.
  private holding = false
  private heldBytes: Buffer | null = null

  // A packet that spans chunks is gathered here, exactly its size.
  private partial: Buffer | null = null
  private partialHeaderBytes = 0
  private filled = 0

  constructor(opts: MqttPacketReaderOptions) {
    if (!Number.isInteger(opts.maxPacketBytes) || opts.maxPacketBytes < 2)
      throw new Error(`MqttPacketReader: maxPacketBytes ${opts.maxPacketBytes} is not a size`)
    this.maxPacketBytes = opts.maxPacketBytes
    this.sink = opts.sink ?? { packetRead: opts.onPacket ?? (() => {}), packetFailed: opts.onError ?? (() => {}) }
    const role = opts.role ?? 'server'
    this.ctx = { version: 0, bridge: false, role, userProperties: null, willUserProperties: null }
    if (opts.protocolVersion !== undefined) this.setProtocolVersion(opts.protocolVersion)
    else if (role === 'client') throw new Error('MqttPacketReader: the client role needs protocolVersion')
  }

  /** 0 until the CONNECT's Protocol Level has been read (even if the rest of that CONNECT then fails). */
  get protocolVersion(): 0 | ProtocolVersion {
    return this.ctx.version
  }

  /** True while part of a packet has arrived: the engine's partial-packet deadline runs. */
  get midPacket(): boolean {
    return this.headerBytes > 0 || this.partial !== null
  }

  /** The version the engine settled on after CONNECT; the reader already derived it from the CONNECT. */
  setProtocolVersion(v: ProtocolVersion): void {
    this.ctx.version = v
  }

  /** Deliver nothing more, e.g. once the engine closes the connection mid-chunk. */
  stop(): void {
    this.done = true
    this.partial = null
    this.headerBytes = 0
    this.heldBytes = null
  }

  /**
   * Deliver no packet after the current one until release() (a publish rate limit paused the
   * connection mid-chunk); the rest of the chunk, and anything fed meanwhile, waits unread.
   */
  hold(): void {
    this.holding = true
  }

  /** Delivers what hold() kept back (which may hold again), then carries on with what is fed. */
  release(): void {
    if (!this.holding) return
    this.holding = false
    const rest = this.heldBytes
    this.heldBytes = null
    if (rest !== null) this.feed(rest)
  }

  feed(chunk: Buffer): void {
    if (this.holding) {
      this.heldBytes = this.heldBytes === null ? chunk : Buffer.concat([this.heldBytes, chunk])
      return
    }
    const n = chunk.length
    let i = 0
    while (i < n && !this.done) {
      if (this.holding) {
        this.heldBytes = chunk.subarray(i)
        return
      }
      if (this.partial !== null) {
        i = this.fill(chunk, i)
        continue
      }
      const start = i
      const fresh = this.headerBytes === 0
      i = this.readHeader(chunk, i)
      if (!this.headerDone) return // the chunk ended inside the fixed header, or it failed
      const end = i + this.remaining
      if (fresh && end <= n) {
        const bodyStart = i
        this.headerBytes = 0
        this.headerDone = false
        i = end
        this.process(chunk, start, bodyStart, end)
      } else {
        this.startPartial()
        i = this.fill(chunk, i) // may complete it at once: a header split from an empty body
      }
    }
  }

  /** Reads fixed header bytes; sets headerDone when the Remaining Length is complete and acceptable. */
  private readHeader(chunk: Buffer, i: number): number {
    if (this.headerBytes === 0) {
      const first = chunk[i++] as number
      const err = this.checkFirstByte(first)
      if (err !== null) {
        this.fail(err)
        return i
      }
      this.first = first
      this.remaining = 0
      this.headerBytes = 1
    }
    while (i < chunk.length) {
      const b = chunk[i++] as number
      this.remaining += (b & 0x7f) * (LENGTH_MULTIPLIERS[this.headerBytes - 1] as number)
      this.headerBytes++
      if ((b & 0x80) !== 0) {
        if (this.headerBytes === 5) {
          this.fail(this.headerError(ReasonCode.MalformedPacket, 'Remaining Length is longer than 4 bytes [MQTT-1.5.5-1]'))
          return i
        }
        continue
      }
      // Only the shortest encoding is valid, which also lets startPartial() re-encode it exactly.
      if (b === 0 && this.headerBytes > 2) {
        this.fail(this.headerError(ReasonCode.MalformedPacket, 'Remaining Length is not in its shortest encoding [MQTT-1.5.5-1]'))
        return i
      }
      const total = this.headerBytes + this.remaining
      if (total > this.maxPacketBytes) {
        this.fail(this.headerError(ReasonCode.PacketTooLarge, `packet of ${total} bytes exceeds the maximum of ${this.maxPacketBytes}`))
        return i
      }
      this.headerDone = true
      return i
    }
    return i
  }

  /** Rules that the first byte alone decides: type, direction, order, fixed header flags. */
  private checkFirstByte(first: number): MqttCodecError | null {
    const type = first >> 4
    const flags = first & 0x0f
    const name = PACKET_NAMES[type] as string
    if (type === 0) return malformed('packet type 0 is reserved')
    if (type === 15 && this.ctx.version !== 0 && this.ctx.version < 5) return malformed('packet type 15 (AUTH) is reserved before MQTT 5')
    if (this.ctx.role === 'server') {
      if ((SENT_BY_SERVERS & (1 << type)) !== 0) return protocolError(`${name} is sent by a server, not a client`)
      if (!this.opened && type !== 1) return protocolError(`${name} before CONNECT [MQTT-3.1.0-1]`)
      if (this.opened && type === 1) return protocolError('a second CONNECT [MQTT-3.1.0-2]')
    } else {
      if ((SENT_BY_CLIENTS & (1 << type)) !== 0) return protocolError(`${name} is sent by a client, not a server`)
      // Enhanced authentication (§4.12) may exchange AUTH packets before the CONNACK.
      if (!this.opened && type !== 2 && type !== 15) return protocolError(`${name} before CONNACK [MQTT-3.2.0-1]`)
      if (this.opened && type === 2) return protocolError('a second CONNACK [MQTT-3.2.0-2]')
    }
    if (type === 3) {
      if ((flags & 0x06) === 0x06) return malformed('PUBLISH with QoS 3 [MQTT-3.3.1-4]')
    } else if (flags !== REQUIRED_FLAGS[type]) {
      return malformed(`${name} fixed header flags 0x${flags.toString(16)}, must be 0x${(REQUIRED_FLAGS[type] as number).toString(16)} [MQTT-2.1.3-1]`)
    }
    if (type === 1 || type === 2) this.opened = true
    return null
  }

  private headerError(reasonCode: number, what: string): MqttCodecError {
    return new MqttCodecError(reasonCode, `${PACKET_NAMES[this.first >> 4] as string}: ${what}`)
  }

  private startPartial(): void {
    const buf = Buffer.allocUnsafe(this.headerBytes + this.remaining)
    buf[0] = this.first
    let r = this.remaining
    let p = 1
    do {
      const b = r % 128
      r = Math.floor(r / 128)
      buf[p++] = r > 0 ? b | 0x80 : b
    } while (r > 0)
    this.partial = buf
    this.partialHeaderBytes = this.headerBytes
    this.filled = this.headerBytes
    this.headerBytes = 0
    this.headerDone = false
  }

  private fill(chunk: Buffer, i: number): number {
    const buf = this.partial as Buffer
    const take = Math.min(buf.length - this.filled, chunk.length - i)
    chunk.copy(buf, this.filled, i, i + take)
    this.filled += take
    if (this.filled === buf.length) {
      this.partial = null
      this.process(buf, 0, this.partialHeaderBytes, buf.length)
    }
    return i + take
  }

  /** Checks, decodes and delivers the packet in buf[start, end) whose body starts at bodyStart. */
  private process(buf: Buffer, start: number, bodyStart: number, end: number): void {
    const first = buf[start] as number
    const type = first >> 4
    const ctx = this.ctx
    ctx.userProperties = null
    ctx.willUserProperties = null
    let packet: InboundPacket
    try {
      this.cur.reset(buf, bodyStart, end, PACKET_NAMES[type] as string)
      const decodeMessage = MESSAGE_DECODERS[type]
      if (decodeMessage !== undefined) {
        packet = decodeMessage(this.cur, first, ctx)
      } else {
        ;(PACKET_CHECKS[type] as NonNullable<(typeof PACKET_CHECKS)[number]>)(this.cur, first & 0x0f, ctx)
        // §3.15.2.1: AUTH with Remaining Length 0 is 0x00 Success; mqtt-packet refuses it.
        packet = type === 15 && bodyStart === end ? authSuccess() : this.decode(buf, start, end, type)
      }
    } catch (err) {
      if (err instanceof MqttCodecError) return this.fail(err)
      // A fault in the decoding itself (ours or mqtt-packet's) costs this connection, not the broker.
      return this.fail(
        new MqttCodecError(ReasonCode.ImplementationSpecificError, `${PACKET_NAMES[type] as string}: decoding failed: ${(err as Error).message}`)
      )
    }
    // The cursor lets go of the chunk: an idle connection must not keep its last read alive.
    this.cur.reset(EMPTY_CHUNK, 0, 0, '')
    if (ctx.userProperties !== null) packet.userPropertiesOrdered = ctx.userProperties
    if (packet.cmd === 'connect') {
      if (ctx.willUserProperties !== null) packet.willUserPropertiesOrdered = ctx.willUserProperties
      this.setProtocolVersion(ctx.version as ProtocolVersion)
    }
    this.sink.packetRead(packet)
  }

  private decode(buf: Buffer, start: number, end: number, type: number): InboundPacket {
    // Before CONNECT's version is known, mqtt-packet reads the CONNECT's own level.
    const result = parseWhole(
      start === 0 && end === buf.length ? buf : buf.subarray(start, end),
      this.ctx.version === 0 ? 4 : this.ctx.version,
      this.ctx.bridge
    )
    if (result instanceof Error) {
      throw new MqttCodecError(ReasonCode.MalformedPacket, `${PACKET_NAMES[type] as string}: ${result.message} (mqtt-packet)`)
    }
    return result
  }

  private fail(err: MqttCodecError): void {
    this.stop()
    this.sink.packetFailed(err)
  }
}

function malformed(what: string): MqttCodecError {
  return new MqttCodecError(ReasonCode.MalformedPacket, what)
}

function protocolError(what: string): MqttCodecError {
  return new MqttCodecError(ReasonCode.ProtocolError, what)
}

function authSuccess(): IAuthPacket {
  // The same shape mqtt-packet gives an AUTH it decodes.
  return Object.assign({ retain: false, qos: 0, dup: false, topic: null, payload: null }, { cmd: 'auth' as const, length: 0, reasonCode: 0 })
}
