// Operating errors of the codec: bad bytes from a peer, or a value the wire format
// cannot carry. Each carries the reply code the connection should close with.

export class AmqpCodecError extends Error {
  override readonly name = 'AmqpCodecError'
  /** The spec reply code to close with (e.g. 501 FRAME_ERROR, 505 UNEXPECTED_FRAME, 540 NOT_IMPLEMENTED). */
  readonly replyCode: number
  /** Class and method of the offending method when known, else 0 (for connection.close). */
  readonly classId: number
  readonly methodId: number

  constructor(message: string, replyCode: number, options: { cause?: unknown; methodId?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.replyCode = replyCode
    const id = options.methodId ?? 0
    this.classId = id >>> 16
    this.methodId = id & 0xffff
  }
}

/**
 * The first 8 octets were not `AMQP 0 0 9 1`. The spec (§4.2.2) wants the server to
 * answer with the header it supports and close the socket; no close method is possible.
 */
export class ProtocolHeaderError extends Error {
  override readonly name = 'ProtocolHeaderError'
  readonly received: Buffer

  constructor(received: Buffer) {
    super(`amqp frame: bad protocol header ${describeHeader(received)}, expected AMQP 0-9-1 "AMQP\\x00\\x00\\x09\\x01"`)
    this.received = received
  }
}

function describeHeader(bytes: Buffer): string {
  const hex = bytes.toString('hex').replace(/(..)(?!$)/g, '$1 ')
  const text = Array.from(bytes, b => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('')
  return `${hex} ("${text}")`
}

/** `0x003c0028` — how method ids appear in codec error messages. */
export function hexMethodId(id: number): string {
  return `0x${(id >>> 0).toString(16).padStart(8, '0')}`
}
