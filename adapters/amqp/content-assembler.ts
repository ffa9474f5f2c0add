// Content assembly on one channel (spec §4.2.6): a content method, then one content header, then
// body frames until body-size bytes arrived. Any other order is a connection error 505
// UNEXPECTED_FRAME, worded as RabbitMQ words it. The body is copied out of the socket's chunks.
import { decodeContentHeader, BASIC_CLASS_ID } from './codec/amqp-defs.ts'
import { UNEXPECTED_FRAME, FRAME_ERROR, PRECONDITION_FAILED } from './codec/reply-codes.ts'
import type { Frame } from './codec/frame-reader.ts'
import { AmqpException } from './amqp-errors.ts'

export interface Content {
  /** Property flags + list as sent (a copy, in the body's allocation), forwarded as is. */
  readonly properties: Buffer
  readonly body: Buffer
}

export type Assembled = { readonly done: false } | { readonly done: true; readonly content: Content }

const NOT_DONE: Assembled = { done: false }

export class ContentAssembler {
  private methodId = 0
  private properties: Buffer | undefined
  private body: Buffer | undefined
  private received = 0

  constructor(private readonly maxBodyBytes: number) {}

  /** A content method arrived; header and body frames come next. */
  begin(methodId: number): void {
    this.methodId = methodId
    this.properties = undefined
    this.body = undefined
    this.received = 0
  }

  get active(): boolean {
    return this.methodId !== 0
  }

  /** Feeds the next frame of the content; throws on frames out of order. */
  push(frame: Frame): Assembled {
    if (this.properties === undefined) {
      if (frame.type !== 'header')
        throw new AmqpException(UNEXPECTED_FRAME, `expected content header for class ${BASIC_CLASS_ID}, got non content header frame instead`, this.methodId)
      const header = decodeContentHeader(frame.payload)
      if (header.classId !== BASIC_CLASS_ID)
        throw new AmqpException(
          UNEXPECTED_FRAME,
          `expected content header for class ${BASIC_CLASS_ID}, got one for class ${header.classId} instead`,
          this.methodId
        )
      if (header.bodySize > this.maxBodyBytes) {
        // A channel error: the channel discards the body frames that follow until close-ok.
        throw new AmqpException(PRECONDITION_FAILED, `message size ${header.bodySize} is larger than configured max size ${this.maxBodyBytes}`, this.methodId)
      }
      // One allocation of its own for the body and the property bytes after it, not slices of Node's
      // shared pool: a message can sit in a queue for days, and a pooled slice would keep its whole
      // 8 KiB slab alive with it. One, not two: each buffer costs the heap about 180 bytes besides
      // its bytes, and a queued message is held in memory.
      const block = Buffer.allocUnsafeSlow(header.bodySize + header.properties.length)
      this.body = block.subarray(0, header.bodySize)
      this.properties = block.subarray(header.bodySize)
      header.properties.copy(this.properties)
      return this.body.length === 0 ? this.finish() : NOT_DONE
    }
    if (frame.type !== 'body') throw new AmqpException(UNEXPECTED_FRAME, `expected content body, got non content body frame instead`, this.methodId)
    const body = this.body as Buffer
    if (this.received + frame.payload.length > body.length) {
      throw new AmqpException(
        FRAME_ERROR,
        `content body of ${this.received + frame.payload.length} bytes exceeds the ${body.length} bytes its header announced`,
        this.methodId
      )
    }
    frame.payload.copy(body, this.received)
    this.received += frame.payload.length
    return this.received === body.length ? this.finish() : NOT_DONE
  }

  reset(): void {
    this.begin(0)
  }

  private finish(): Assembled {
    const content = { properties: this.properties as Buffer, body: this.body as Buffer }
    this.reset()
    return { done: true, content }
  }
}
