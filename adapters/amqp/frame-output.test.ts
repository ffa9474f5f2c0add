// FrameOutput on a real loopback socket whose peer does not read: consumers lose their credit once
// more than amqp.writeBufferBytesMax waits (gathered here, or queued in the socket), and get it back
// once the peer reads.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { systemClock } from '../../core/clock.ts'
import { eventually } from '../../test/support/wait.ts'
import { FrameOutput } from './frame-output.ts'

async function socketPair(): Promise<{ writer: Socket; reader: Socket; close: () => void }> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const accepted = once(server, 'connection')
  const writer = connect(address.port, '127.0.0.1')
  const [reader] = (await accepted) as [Socket]
  reader.pause()
  return {
    writer,
    reader,
    close: () => {
      writer.destroy()
      reader.destroy()
      server.close()
    }
  }
}

test('congested past writeBufferBytesMax, in this tick and in the socket; clear once the peer reads', async () => {
  const { writer, reader, close } = await socketPair()
  try {
    const output = new FrameOutput(writer, systemClock, 64 * 1024)
    const frame = Buffer.alloc(16 * 1024)
    for (let i = 0; i < 4; i++) output.send(frame)
    assert.equal(output.congested, false, 'exactly the limit is not over it')
    output.send(frame)
    assert.equal(output.congested, true, 'gathered in this tick')
    // Written on: the kernel's buffers take some, the rest waits in the socket while the peer is paused.
    await eventually('the socket holds more than the limit', () => {
      output.sendAll([frame, frame, frame, frame]) // flushed on the next tick
      return writer.writableLength > 64 * 1024
    })
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(output.congested, true, 'queued in the socket')
    reader.resume()
    await eventually('the peer read it all', () => !output.congested, 10_000)
  } finally {
    close()
  }
})
