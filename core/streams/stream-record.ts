// One record of a stream: what a stream consumer receives at an offset, in either tier. The same
// shape is written into segments (core/tiering/segment-format.ts) and read back from them.
import type { MessageProperties } from '../model/message.ts'

export interface StreamRecord {
  /** Position in the stream, from 0, without gaps. */
  readonly offset: number
  /** When the stream took the record (ms since epoch): x-stream-offset timestamps, x-max-age. */
  readonly timestampMs: number
  readonly exchange: string
  readonly routingKey: string
  readonly properties: MessageProperties
  readonly body: Buffer
}
