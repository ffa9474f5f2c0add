// Bounds-checked reads over one packet held in buf[pos, end). Every field that would run past the
// end is a Malformed Packet; strings are checked for the UTF-8 rules of §1.5.4 as they are read.

import { isUtf8 } from 'node:buffer'
import { MqttCodecError } from './codec-error.ts'
import { ReasonCode } from './reason-codes.ts'

const EMPTY = Buffer.alloc(0)

/** [MQTT-1.5.4-1] well-formed UTF-8 (no surrogates), [MQTT-1.5.4-2] no U+0000. ASCII stays in JS. */
export function isMqttUtf8(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i] as number
    if (b === 0) return false
    if (b >= 0x80) {
      const rest = buf.subarray(i, end)
      return isUtf8(rest) && rest.indexOf(0) === -1
    }
  }
  return true
}

export class WireCursor {
  buf: Buffer = EMPTY
  pos = 0
  end = 0
  /** The packet being read, for messages: 'PUBLISH', 'CONNECT'... */
  packet = ''
  /** Identifiers present in the last property section read, as bits: id < 32 in lo, the rest in hi. */
  seenLo = 0
  seenHi = 0
  /** The last property section read with decode on, in mqtt-packet's shape; null when it was empty. */
  properties: Record<string, unknown> | null = null

  reset(buf: Buffer, pos: number, end: number, packet: string): void {
    this.buf = buf
    this.pos = pos
    this.end = end
    this.packet = packet
    this.seenLo = 0
    this.seenHi = 0
    this.properties = null
  }

  /** Bytes left before the end of the packet (or of the property section being read). */
  get left(): number {
    return this.end - this.pos
  }

  sawProperty(id: number): boolean {
    return ((id < 32 ? this.seenLo : this.seenHi) & (1 << (id & 31))) !== 0
  }

  u8(field: string): number {
    if (this.pos >= this.end) throw this.short(field)
    return this.buf[this.pos++] as number
  }

  u16(field: string): number {
    if (this.end - this.pos < 2) throw this.short(field)
    const v = ((this.buf[this.pos] as number) << 8) | (this.buf[this.pos + 1] as number)
    this.pos += 2
    return v
  }

  u32(field: string): number {
    if (this.end - this.pos < 4) throw this.short(field)
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }

  /** A Variable Byte Integer: at most 4 bytes, in the fewest bytes that hold it [MQTT-1.5.5-1]. */
  varint(field: string): number {
    let value = 0
    let multiplier = 1
    for (let n = 1; n <= 4; n++) {
      const b = this.u8(field)
      value += (b & 0x7f) * multiplier
      if ((b & 0x80) === 0) {
        if (b === 0 && n > 1) throw this.malformed(`${field} is not in its shortest encoding [MQTT-1.5.5-1]`)
        return value
      }
      multiplier *= 128
    }
    throw this.malformed(`${field} is longer than 4 bytes [MQTT-1.5.5-1]`)
  }

  /** Skips a UTF-8 Encoded String after checking it; returns its byte length. */
  utf8(field: string): number {
    const n = this.u16(field)
    if (this.end - this.pos < n) throw this.short(field)
    // [MQTT-1.5.4-1] [MQTT-1.5.4-2] (3.1.1: [MQTT-1.5.3-1] [MQTT-1.5.3-2])
    if (!isMqttUtf8(this.buf, this.pos, this.pos + n)) throw this.malformed(`${field} is not well-formed UTF-8 or contains U+0000 [MQTT-1.5.4-1]`)
    this.pos += n
    return n
  }

  /** Reads a UTF-8 Encoded String after checking it. */
  utf8Value(field: string): string {
    const start = this.pos + 2
    const n = this.utf8(field)
    return this.buf.toString('utf8', start, start + n)
  }

  binary(field: string): void {
    const n = this.u16(field)
    if (this.end - this.pos < n) throw this.short(field)
    this.pos += n
  }

  /** Reads Binary Data as a view into the packet's buffer, as mqtt-packet does. */
  binaryValue(field: string): Buffer {
    const start = this.pos + 2
    this.binary(field)
    return this.buf.subarray(start, this.pos)
  }

  malformed(what: string): MqttCodecError {
    return new MqttCodecError(ReasonCode.MalformedPacket, `${this.packet}: ${what}`)
  }

  protocolError(what: string): MqttCodecError {
    return new MqttCodecError(ReasonCode.ProtocolError, `${this.packet}: ${what}`)
  }

  private short(field: string): MqttCodecError {
    return this.malformed(`${field} runs past the end of the packet`)
  }
}
