// basic.publish as the uplink sends it: method, content header and body frames (spec §4.2.6),
// encoded here from property bytes the link encoded once (amqp-message.ts UplinkPropertyCache)
// instead of by amqplib, which builds every publish from an options object and encodes the whole
// property list, headers table included, each time (a fifth of the edge's CPU per forwarded
// message in bench bridge-uplink). A small message is one buffer; a larger body is cut into
// frames of at most frame-max bytes.
import { BASIC_CLASS_ID } from '../../amqp/codec/amqp-defs.ts'
import { FRAME_END, FRAME_HEADER, FRAME_HEADER_BYTES, FRAME_METHOD, FRAME_OVERHEAD_BYTES, FRAME_BODY, checkFrameMax } from '../../amqp/codec/frame-format.ts'
import { BODY_COPY_BYTES_MAX, bodyFrames } from '../../amqp/codec/frame-writer.ts'
import { MessageRefusal } from './message-refusal.ts'

const BASIC_PUBLISH = 40
const SHORTSTR_BYTES_MAX = 255
/** class-id, method-id, reserved-1 (ticket): the method payload before the exchange name. */
const METHOD_PREFIX_BYTES = 6
/** class-id, weight, body-size: the content header payload before the property flags. */
const HEADER_PREFIX_BYTES = 12
/** The mandatory bit: the remote returns (basic.return) what it routes to no queue, instead of dropping it unsaid. */
const MANDATORY = 1

export class PublishFrames {
  private readonly exchange: Buffer

  constructor(
    private readonly channel: number,
    exchange: string,
    private readonly frameMax: number
  ) {
    checkFrameMax(frameMax, 'bridge publish')
    this.exchange = Buffer.from(exchange)
    if (this.exchange.length > SHORTSTR_BYTES_MAX) throw new RangeError(`bridge publish: exchange name of ${this.exchange.length} bytes (255 at most)`)
  }

  /** The frames of one basic.publish (mandatory on, immediate off); `properties` is the property flags + list. */
  encode(routingKey: string, properties: Buffer, body: Buffer): Buffer[] {
    const keyBytes = Buffer.byteLength(routingKey)
    if (keyBytes > SHORTSTR_BYTES_MAX) throw new MessageRefusal(`routing key of ${keyBytes} bytes: AMQP takes 255 at most`, true)
    const methodPayload = METHOD_PREFIX_BYTES + 1 + this.exchange.length + 1 + keyBytes + 1
    const headerPayload = HEADER_PREFIX_BYTES + properties.length
    if (headerPayload + FRAME_OVERHEAD_BYTES > this.frameMax) {
      // A content header cannot be split (spec §4.2.6): these properties can never go.
      throw new MessageRefusal(`properties of ${properties.length} bytes: the content header is larger than the remote's frame-max ${this.frameMax}`, true)
    }
    const inOne = body.length <= BODY_COPY_BYTES_MAX && body.length + FRAME_OVERHEAD_BYTES <= this.frameMax
    const bodyBytes = !inOne || body.length === 0 ? 0 : body.length + FRAME_OVERHEAD_BYTES
    const out = Buffer.allocUnsafe(methodPayload + headerPayload + 2 * FRAME_OVERHEAD_BYTES + bodyBytes)
    let at = this.frameHeader(out, 0, FRAME_METHOD, methodPayload)
    at = out.writeUInt16BE(BASIC_CLASS_ID, at)
    at = out.writeUInt16BE(BASIC_PUBLISH, at)
    at = out.writeUInt16BE(0, at)
    at = out.writeUInt8(this.exchange.length, at)
    at += this.exchange.copy(out, at)
    at = out.writeUInt8(keyBytes, at)
    at += out.write(routingKey, at, 'utf8')
    at = out.writeUInt8(MANDATORY, at) // immediate off
    at = out.writeUInt8(FRAME_END, at)
    at = this.frameHeader(out, at, FRAME_HEADER, headerPayload)
    at = out.writeUInt16BE(BASIC_CLASS_ID, at)
    at = out.writeUInt16BE(0, at) // weight
    at = out.writeBigUInt64BE(BigInt(body.length), at)
    at += properties.copy(out, at)
    at = out.writeUInt8(FRAME_END, at)
    if (!inOne) return [out, ...bodyFrames(this.channel, body, this.frameMax)]
    if (bodyBytes > 0) {
      at = this.frameHeader(out, at, FRAME_BODY, body.length)
      at += body.copy(out, at)
      out.writeUInt8(FRAME_END, at)
    }
    return [out]
  }

  private frameHeader(out: Buffer, at: number, type: number, payloadBytes: number): number {
    out[at] = type
    out.writeUInt16BE(this.channel, at + 1)
    out.writeUInt32BE(payloadBytes, at + 3)
    return at + FRAME_HEADER_BYTES
  }
}
