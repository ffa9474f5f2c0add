// Reassembles AMQP 0-9-1 frames from socket reads split anywhere. Whole frames inside
// one chunk are returned as views of that chunk; only a frame that straddles chunks is
// copied, once, into a buffer of exactly its size. Buffered bytes are bounded by
// frame-max: a frame header announcing more is refused before its payload is awaited.
//
// Framing errors follow RabbitMQ (rabbit_reader / rabbit_command_assembler): a bad
// frame-end, an unknown frame type, a frame too large, or a payload too short for its
// type is 501 FRAME_ERROR; a heartbeat on a channel other than 0 is 505 UNEXPECTED_FRAME.
// Frame order (content after its method, ...) is the channel layer's check.
import { AmqpCodecError, ProtocolHeaderError } from './codec-error.ts'
import { FRAME_ERROR, UNEXPECTED_FRAME } from './reply-codes.ts'
import { FRAME_END, FRAME_HEADER_BYTES, FRAME_MIN_SIZE, FRAME_OVERHEAD_BYTES, PROTOCOL_HEADER, checkFrameMax } from './frame-format.ts'

export type FrameType = 'method' | 'header' | 'body' | 'heartbeat'

export interface Frame {
  readonly type: FrameType
  readonly channel: number
  /** A view of the bytes read from the socket: copy it before keeping it past this frame. */
  readonly payload: Buffer
}

/** The client's `AMQP 0 0 9 1` arrived; the server answers with connection.start. */
export interface ProtocolHeaderReceived {
  readonly type: 'protocol-header'
}

export type ReaderItem = Frame | ProtocolHeaderReceived

// RabbitMQ accepts frames up to 8 bytes over frame-max, for clients that count
// frame-max as the payload size (rabbit_reader's FRAME_SIZE_FUDGE).
const FRAME_MAX_TOLERANCE_BYTES = 8

const FRAME_TYPES: ReadonlyArray<FrameType | undefined> = [undefined, 'method', 'header', 'body', undefined, undefined, undefined, undefined, 'heartbeat']

// Shortest payload each frame type can have: method = class + method id;
// header = class, weight, body size, property flags.
const PAYLOAD_MIN_BYTES: Readonly<Record<FrameType, number>> = { method: 4, header: 14, body: 0, heartbeat: 0 }

export interface FrameReaderOptions {
  /** Expect the 8-octet protocol header first (the server side of a fresh connection). Default true. */
  readonly expectProtocolHeader?: boolean
  /** Default FRAME_MIN_SIZE, the limit before tuning. */
  readonly frameMax?: number
}

export class FrameReader implements Iterable<ReaderItem> {
  private readonly chunks: Buffer[] = []
  private head = 0 // read offset into chunks[0]
  private buffered = 0 // unread bytes across chunks
  private awaitingProtocolHeader: boolean
  private frameMaxBytes: number = FRAME_MIN_SIZE
  private failure: Error | undefined

  constructor(options: FrameReaderOptions = {}) {
    this.awaitingProtocolHeader = options.expectProtocolHeader ?? true
    this.setFrameMax(options.frameMax ?? FRAME_MIN_SIZE)
  }

  get frameMax(): number {
    return this.frameMaxBytes
  }

  get bufferedBytes(): number {
    return this.buffered
  }

  /** Applies to the next frame read, so call it as soon as connection.tune-ok is handled. */
  setFrameMax(frameMax: number): void {
    checkFrameMax(frameMax, 'frame reader')
    this.frameMaxBytes = frameMax
  }

  /** Queues bytes as read from the socket; `read()` or iteration hands out the frames. */
  push(chunk: Buffer): void {
    if (this.failure !== undefined || chunk.length === 0) return
    this.chunks.push(chunk)
    this.buffered += chunk.length
  }

  /**
   * The next complete item, or undefined until more bytes arrive. Throws
   * ProtocolHeaderError or AmqpCodecError; after that the reader stays failed.
   */
  read(): ReaderItem | undefined {
    if (this.failure !== undefined) throw this.failure
    try {
      return this.awaitingProtocolHeader ? this.readProtocolHeader() : this.readFrame()
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err))
      this.chunks.length = 0
      this.buffered = 0
      throw err
    }
  }

  [Symbol.iterator](): Iterator<ReaderItem, undefined> {
    return {
      next: () => {
        const item = this.read()
        return item === undefined ? { done: true, value: undefined } : { done: false, value: item }
      }
    }
  }

  private readProtocolHeader(): ReaderItem | undefined {
    if (this.buffered < PROTOCOL_HEADER.length) return undefined
    const received = this.take(PROTOCOL_HEADER.length)
    if (!received.equals(PROTOCOL_HEADER)) throw new ProtocolHeaderError(received)
    this.awaitingProtocolHeader = false
    return { type: 'protocol-header' }
  }

  private readFrame(): Frame | undefined {
    if (this.buffered < FRAME_HEADER_BYTES) return undefined
    let first = this.chunks[0] as Buffer
    let at = this.head
    if (first.length - at < FRAME_HEADER_BYTES) {
      // the 7 header bytes straddle chunks
      first = this.peek(FRAME_HEADER_BYTES)
      at = 0
    }
    const typeOctet = first[at] as number
    const channel = first.readUInt16BE(at + 1)
    const size = first.readUInt32BE(at + 3)
    const type = this.checkHeader(typeOctet, channel, size)

    const total = size + FRAME_OVERHEAD_BYTES
    if (this.buffered < total) return undefined
    const chunk = this.chunks[0] as Buffer
    let frame: Buffer
    if (chunk.length - this.head >= total) {
      // the common case: no copy
      frame = chunk.subarray(this.head, this.head + total)
      this.advance(total)
    } else {
      frame = this.take(total)
    }
    const end = frame[total - 1] as number
    if (end !== FRAME_END) {
      throw new AmqpCodecError(
        `amqp frame: ${type} frame on channel ${channel} (payload ${size} bytes) ends with 0x${hex2(end)}, expected frame-end 0xce`,
        FRAME_ERROR
      )
    }
    return { type, channel, payload: frame.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + size) }
  }

  private checkHeader(typeOctet: number, channel: number, size: number): FrameType {
    const type = FRAME_TYPES[typeOctet]
    if (type === undefined) {
      throw new AmqpCodecError(`amqp frame: unknown frame type ${typeOctet} (0x${hex2(typeOctet)}) on channel ${channel}`, FRAME_ERROR)
    }
    if (size > this.frameMaxBytes - FRAME_OVERHEAD_BYTES + FRAME_MAX_TOLERANCE_BYTES) {
      throw new AmqpCodecError(
        `amqp frame: ${type} frame on channel ${channel} of ${size + FRAME_OVERHEAD_BYTES} bytes (payload ${size}) exceeds frame-max ${this.frameMaxBytes}`,
        FRAME_ERROR
      )
    }
    if (size < PAYLOAD_MIN_BYTES[type]) {
      throw new AmqpCodecError(
        `amqp frame: ${type} frame on channel ${channel} with a ${size}-byte payload, at least ${PAYLOAD_MIN_BYTES[type]} expected`,
        FRAME_ERROR
      )
    }
    if (type === 'heartbeat') {
      if (size !== 0) throw new AmqpCodecError(`amqp frame: heartbeat frame with a ${size}-byte payload, heartbeats are empty`, FRAME_ERROR)
      if (channel !== 0) throw new AmqpCodecError(`amqp frame: heartbeat frame on channel ${channel}, heartbeats belong to channel 0`, UNEXPECTED_FRAME)
    }
    return type
  }

  /** Copies the next n buffered bytes without consuming them (n is small). */
  private peek(n: number): Buffer {
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    let offset = this.head
    for (const chunk of this.chunks) {
      filled += chunk.copy(out, filled, offset, Math.min(chunk.length, offset + n - filled))
      offset = 0
      if (filled === n) break
    }
    return out
  }

  /** Consumes the next n buffered bytes into one new buffer of exactly n bytes. */
  private take(n: number): Buffer {
    const out = this.peek(n)
    this.advance(n)
    return out
  }

  private advance(n: number): void {
    this.buffered -= n
    this.head += n
    while (this.chunks.length > 0 && this.head >= (this.chunks[0] as Buffer).length) {
      this.head -= (this.chunks.shift() as Buffer).length
    }
  }
}

function hex2(octet: number): string {
  return octet.toString(16).padStart(2, '0')
}
