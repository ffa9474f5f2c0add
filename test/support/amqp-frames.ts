// The AMQP frames in written buffers, read back with the broker's own reader: what codec tests assert on.
import assert from 'node:assert/strict'
import { FrameReader, type Frame } from '../../adapters/amqp/codec/frame-reader.ts'

export function framesOf(buffers: readonly Buffer[], frameMax = 131072): Frame[] {
  const reader = new FrameReader({ expectProtocolHeader: false, frameMax })
  reader.push(Buffer.concat(buffers))
  const frames: Frame[] = []
  for (const item of reader) {
    assert.ok(item.type !== 'protocol-header')
    frames.push(item)
  }
  assert.equal(reader.bufferedBytes, 0)
  return frames
}
