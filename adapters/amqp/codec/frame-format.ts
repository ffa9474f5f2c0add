// The fixed parts of the AMQP 0-9-1 wire format (spec §4.2.2, §4.2.3).

export const PROTOCOL_HEADER: Buffer = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]) // "AMQP" 0 0 9 1

export const FRAME_METHOD = 1
export const FRAME_HEADER = 2
export const FRAME_BODY = 3
export const FRAME_HEARTBEAT = 8
export const FRAME_END = 0xce

export const FRAME_HEADER_BYTES = 7 // type octet, channel short, payload size long
export const FRAME_OVERHEAD_BYTES = 8 // frame header + frame-end octet

/** Smallest frame-max a peer may negotiate, and the limit until connection.tune-ok. */
export const FRAME_MIN_SIZE = 4096
/** frame-max is a long; 0 ("no limit") must be resolved to a real limit before use. */
export const FRAME_MAX_LIMIT = 0xffffffff

export function checkFrameMax(frameMax: number, who: string): void {
  if (!Number.isInteger(frameMax) || frameMax < FRAME_MIN_SIZE || frameMax > FRAME_MAX_LIMIT) {
    throw new RangeError(`${who}: frame-max ${frameMax} outside ${FRAME_MIN_SIZE}..${FRAME_MAX_LIMIT} (resolve a peer's 0 to the server's limit first)`)
  }
}
