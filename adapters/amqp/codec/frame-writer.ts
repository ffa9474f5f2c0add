// Encodes outgoing frames. Content is returned as a list of buffers for one corked
// socket write (writev): large body slices are framed around views of the body, so a
// message body is never copied on its way out.
import { AmqpCodecError } from './codec-error.ts'
import { INTERNAL_ERROR } from './reply-codes.ts'
import { BASIC_CLASS_ID, encodeContentHeader, encodeMethod, type BasicProperties, type ContentMethodId, type FieldsOf, type MethodId } from './amqp-defs.ts'
import {
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_HEADER_BYTES,
  FRAME_HEARTBEAT,
  FRAME_OVERHEAD_BYTES,
  PROTOCOL_HEADER,
  checkFrameMax
} from './frame-format.ts'

export { PROTOCOL_HEADER }

export const HEARTBEAT_FRAME: Buffer = Buffer.from([FRAME_HEARTBEAT, 0, 0, 0, 0, 0, 0, FRAME_END])

// Body slices up to this size are copied into one frame buffer (one writev entry
// beats three for small slices); larger ones are sent as header + view + end octet.
export const BODY_COPY_BYTES_MAX = 8192

const FRAME_END_OCTET = Buffer.from([FRAME_END])

export function methodFrame<I extends MethodId>(channel: number, id: I, fields: FieldsOf<I>): Buffer {
  return encodeMethod(id, channel, fields)
}

/**
 * A content header frame. `properties` is either decoded properties, or the raw
 * property flags + list as received from a publisher (ContentHeader.properties),
 * forwarded byte for byte: no re-encoding, no field-table type drift.
 */
export function contentHeaderFrame(channel: number, classId: number, bodySize: number, properties: BasicProperties | Buffer): Buffer {
  if (!Buffer.isBuffer(properties)) return encodeContentHeader(channel, classId, bodySize, properties)
  if (!Number.isSafeInteger(bodySize) || bodySize < 0) {
    throw new AmqpCodecError(`amqp codec: encode content header of class ${classId}: body size ${bodySize} is not a byte count`, INTERNAL_ERROR)
  }
  const payloadBytes = 12 + properties.length // class-id, weight, body-size, then properties
  const frame = Buffer.allocUnsafe(FRAME_OVERHEAD_BYTES + payloadBytes)
  frame[0] = FRAME_HEADER
  frame.writeUInt16BE(channel, 1)
  frame.writeUInt32BE(payloadBytes, 3)
  frame.writeUInt16BE(classId, 7)
  frame.writeUInt16BE(0, 9) // weight, unused
  frame.writeBigUInt64BE(BigInt(bodySize), 11)
  properties.copy(frame, 19)
  frame[frame.length - 1] = FRAME_END
  return frame
}

/** The body cut into frames of at most frame-max bytes; none for an empty body. */
export function bodyFrames(channel: number, body: Buffer, frameMax: number): Buffer[] {
  checkFrameMax(frameMax, 'frame writer')
  const sliceMax = frameMax - FRAME_OVERHEAD_BYTES
  const frames: Buffer[] = []
  for (let offset = 0; offset < body.length; offset += sliceMax) {
    const slice = body.subarray(offset, Math.min(body.length, offset + sliceMax))
    if (slice.length <= BODY_COPY_BYTES_MAX) {
      const frame = Buffer.allocUnsafe(FRAME_OVERHEAD_BYTES + slice.length)
      writeFrameHeader(frame, FRAME_BODY, channel, slice.length)
      slice.copy(frame, FRAME_HEADER_BYTES)
      frame[frame.length - 1] = FRAME_END
      frames.push(frame)
    } else {
      const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES)
      writeFrameHeader(header, FRAME_BODY, channel, slice.length)
      frames.push(header, slice, FRAME_END_OCTET)
    }
  }
  return frames
}

/**
 * A whole content-carrying method (basic.deliver, basic.get-ok, basic.return,
 * basic.publish): method frame, content header frame, body frames, in order.
 */
export function contentFrames<I extends ContentMethodId>(
  channel: number,
  id: I,
  fields: FieldsOf<I>,
  properties: BasicProperties | Buffer,
  body: Buffer,
  frameMax: number
): Buffer[] {
  checkFrameMax(frameMax, 'frame writer')
  const header = contentHeaderFrame(channel, BASIC_CLASS_ID, body.length, properties)
  if (header.length > frameMax) {
    // a content header cannot be split (spec §4.2.6)
    throw new AmqpCodecError(
      `amqp codec: encode content header of class ${BASIC_CLASS_ID}: frame of ${header.length} bytes exceeds frame-max ${frameMax}`,
      INTERNAL_ERROR
    )
  }
  return [methodFrame(channel, id, fields), header, ...bodyFrames(channel, body, frameMax)]
}

function writeFrameHeader(target: Buffer, type: number, channel: number, payloadBytes: number): void {
  target[0] = type
  target.writeUInt16BE(channel, 1)
  target.writeUInt32BE(payloadBytes, 3)
}
