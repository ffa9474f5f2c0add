// Malformed, truncated and out-of-order frames from a raw client: each closes that one connection
// with the spec's reply code (501, 502/505, 504, 540, or 406 as a channel close), and the broker
// keeps serving a real client on another connection throughout.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Channel, ChannelModel } from 'amqplib'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { channel, closeQuietly, connect, eventually } from './support/amqp-helpers.ts'
import { RawAmqp, rawFrame } from './support/raw-amqp.ts'
import { Methods, encodeContentHeader, encodeMethod } from '../adapters/amqp/codec/amqp-defs.ts'
import { FRAME_BODY, FRAME_HEADER, FRAME_HEARTBEAT, FRAME_METHOD } from '../adapters/amqp/codec/frame-format.ts'

describe('AMQP frame errors', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let bystander: ChannelModel
  let bch: Channel
  let port: number

  before(async () => {
    broker = await startTestBroker(c => {
      c.amqp.channelMax = 8
      c.amqp.frameMaxBytes = 8192
      c.amqp.maxMessageBytes = 1000
    })
    port = broker.node.ports.amqp
    bystander = await connect(broker.amqpUrl)
    bch = await channel(bystander)
    await bch.assertQueue('bystander')
  })
  after(async () => {
    await closeQuietly(bystander)
    await broker.close()
  })

  /** The real client on its own connection still publishes and gets. */
  async function othersUnaffected(): Promise<void> {
    bch.sendToQueue('bystander', Buffer.from('still here'))
    const m = await bch.get('bystander', { noAck: true })
    assert.ok(m !== false)
    assert.equal(m.content.toString(), 'still here')
  }

  async function expectClose(client: RawAmqp, replyCode: number, text?: RegExp): Promise<void> {
    const close = await client.expectMethod(Methods.ConnectionClose)
    const fields = close.fields as { replyCode: number; replyText: string }
    assert.equal(fields.replyCode, replyCode, fields.replyText)
    if (text !== undefined) assert.match(fields.replyText, text)
    client.send(0, Methods.ConnectionCloseOk, {})
    await client.waitEnded()
    await othersUnaffected()
  }

  async function opened(channels: number[] = [1]): Promise<RawAmqp> {
    const { client } = await RawAmqp.open(port)
    for (const c of channels) await client.openChannel(c)
    return client
  }

  const publishMethod = (channel: number, queue = 'bystander'): Buffer =>
    encodeMethod(Methods.BasicPublish, channel, { exchange: '', routingKey: queue, mandatory: false, immediate: false })

  test('an unknown frame type is 501 FRAME_ERROR', async () => {
    const c = await opened()
    c.write(rawFrame(9, 1, Buffer.alloc(4)))
    await expectClose(c, 501, /unknown frame type 9/)
  })

  test('a bad frame-end octet is 501', async () => {
    const c = await opened()
    const frame = encodeMethod(Methods.BasicQos, 1, { prefetchSize: 0, prefetchCount: 1, global: false })
    frame[frame.length - 1] = 0x00
    c.write(frame)
    await expectClose(c, 501, /expected frame-end 0xce/)
  })

  test('a frame larger than the negotiated frame-max is 501, refused from its header', async () => {
    const c = await opened()
    c.write(rawFrame(FRAME_METHOD, 1, Buffer.alloc(16), 0xce, 9000).subarray(0, 7))
    await expectClose(c, 501, /exceeds frame-max 8192/)
  })

  test('a truncated method is 501; an unknown class or method is 540 NOT_IMPLEMENTED', async () => {
    const c = await opened()
    const full = encodeMethod(Methods.QueueDeclare, 1, {
      queue: 'truncated',
      passive: false,
      durable: false,
      exclusive: false,
      autoDelete: false,
      nowait: false,
      arguments: {}
    })
    const payload = full.subarray(7, full.length - 1)
    c.write(rawFrame(FRAME_METHOD, 1, payload.subarray(0, payload.length - 3)))
    await expectClose(c, 501, /queue\.declare/)
    const d = await opened()
    const unknown = Buffer.alloc(4)
    unknown.writeUInt32BE(0x003c00ff)
    d.write(rawFrame(FRAME_METHOD, 1, unknown))
    await expectClose(d, 540, /unknown class 60 method 255/)
  })

  test('content without a method, a method inside content, and a body before the header are 505 UNEXPECTED_FRAME', async () => {
    const a = await opened()
    a.write(encodeContentHeader(1, 60, 3, {}))
    await expectClose(a, 505, /expected method frame, got non method frame/)
    const b = await opened()
    b.write(publishMethod(1))
    b.write(encodeMethod(Methods.BasicQos, 1, { prefetchSize: 0, prefetchCount: 1, global: false }))
    await expectClose(b, 505, /expected content header for class 60/)
    const c = await opened()
    c.write(publishMethod(1))
    c.write(rawFrame(FRAME_BODY, 1, Buffer.from('abc')))
    await expectClose(c, 505, /expected content header/)
    const d = await opened()
    d.write(publishMethod(1))
    d.write(encodeContentHeader(1, 60, 3, {}))
    d.write(encodeMethod(Methods.BasicQos, 1, { prefetchSize: 0, prefetchCount: 1, global: false }))
    await expectClose(d, 505, /expected content body/)
  })

  test('a body longer than its header announced is 501; a content header on channel 0 is 505', async () => {
    const c = await opened()
    c.write(publishMethod(1))
    c.write(encodeContentHeader(1, 60, 3, {}))
    c.write(rawFrame(FRAME_BODY, 1, Buffer.from('abcdef')))
    await expectClose(c, 501, /exceeds the 3 bytes its header announced/)
    const d = await opened()
    d.write(rawFrame(FRAME_HEADER, 0, encodeContentHeader(0, 60, 0, {}).subarray(7, -1)))
    await expectClose(d, 505)
  })

  test('wrong channel numbers: a method on a channel never opened, above channel-max, or a second channel.open are 504 CHANNEL_ERROR', async () => {
    const a = await opened([])
    a.write(encodeMethod(Methods.BasicQos, 3, { prefetchSize: 0, prefetchCount: 1, global: false }))
    await expectClose(a, 504, /expected 'channel.open' on channel 3/)
    const b = await opened([])
    b.send(9, Methods.ChannelOpen, {})
    await expectClose(b, 504, /channel 9 is above the negotiated channel-max 8/)
    const c = await opened([1])
    c.send(1, Methods.ChannelOpen, {})
    await expectClose(c, 504, /second 'channel.open'/)
    const d = await opened([1])
    d.send(1, Methods.ConnectionTuneOk, { channelMax: 1, frameMax: 8192, heartbeat: 0 })
    await expectClose(d, 504)
  })

  test('a heartbeat on a channel other than 0 is 505; a method only servers send is 503 COMMAND_INVALID', async () => {
    const a = await opened()
    a.write(rawFrame(FRAME_HEARTBEAT, 1, Buffer.alloc(0)))
    await expectClose(a, 505, /heartbeat frame on channel 1/)
    const b = await opened()
    b.send(1, Methods.BasicGetEmpty, {})
    await expectClose(b, 503, /basic\.get-empty is not a method a client sends/)
  })

  test('a message over maxMessageBytes closes only the channel (406); its body frames are discarded and the connection goes on', async () => {
    const c = await opened([1, 2])
    c.write(publishMethod(1))
    c.write(encodeContentHeader(1, 60, 5000, {}))
    for (let i = 0; i < 5; i++) c.write(rawFrame(FRAME_BODY, 1, Buffer.alloc(1000)))
    const close = await c.expectMethod(Methods.ChannelClose)
    assert.equal(close.channel, 1)
    assert.deepEqual((close.fields as { replyCode: number; replyText: string }).replyCode, 406)
    assert.match((close.fields as { replyText: string }).replyText, /message size 5000 is larger than configured max size 1000/)
    c.send(1, Methods.ChannelCloseOk, {})
    c.write(publishMethod(2))
    c.write(encodeContentHeader(2, 60, 2, {}))
    c.write(rawFrame(FRAME_BODY, 2, Buffer.from('ok')))
    let got: string | undefined
    await eventually('the publish on channel 2', async () => {
      const m = await bch.get('bystander', { noAck: true })
      got = m === false ? undefined : m.content.toString()
      return got !== undefined
    })
    assert.equal(got, 'ok')
    await c.openChannel(1) // channel 1 may be opened again after close-ok
    c.destroy()
    await othersUnaffected()
  })

  test("a delivery the consumer's frame-max cannot carry closes the consumer's connection only; the message stays queued", async () => {
    await bch.assertQueue('big-header')
    const small = await connect(`${broker.amqpUrl}?frameMax=4096`)
    const sch = await channel(small)
    await sch.consume('big-header', () => {})
    const closed = new Promise<number | undefined>(resolve => small.once('error', (err: { code?: number }) => resolve(err.code)))
    bch.sendToQueue('big-header', Buffer.from('x'), { headers: { pad: 'p'.repeat(6000) } })
    assert.equal(await closed, 541)
    await eventually('the message requeued', async () => (await bch.checkQueue('big-header')).messageCount === 1)
    await othersUnaffected()
  })

  test('a connection dropped in the middle of a frame, or of a message, leaves nothing behind', async () => {
    const a = await opened()
    a.write(publishMethod(1))
    a.write(encodeContentHeader(1, 60, 100, {}))
    a.write(rawFrame(FRAME_BODY, 1, Buffer.alloc(50)).subarray(0, 20))
    a.destroy()
    const b = await RawAmqp.connect(port)
    b.write(Buffer.from('AMQP\x00\x00'))
    b.destroy()
    await othersUnaffected()
    const before = broker.node.metrics.value('wharf_amqp_connections_open')
    assert.ok(before >= 1)
  })

  test('every single-byte truncation of a valid handshake + publish, then a drop, leaves the broker serving', async () => {
    const { client } = await RawAmqp.open(port)
    client.destroy()
    const script = Buffer.concat([
      Buffer.from('AMQP\x00\x00\x09\x01'),
      encodeMethod(Methods.ConnectionStartOk, 0, { clientProperties: {}, mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US' })
    ])
    for (let cut = 1; cut < script.length; cut++) {
      const c = await RawAmqp.connect(port)
      c.write(script.subarray(0, cut))
      c.destroy()
    }
    await othersUnaffected()
  })
})
