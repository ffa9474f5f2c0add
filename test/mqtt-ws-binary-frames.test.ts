// MQTT over WebSocket is carried in binary data frames; a peer that sends any other data frame has its
// connection closed [MQTT-6.0.0-1]. Wharf fed text frames to the MQTT parser like binary ones: a
// CONNECT sent as a text frame got its CONNACK. Real WebSocket clients (ws) on the broker's /mqtt.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'

/** A WebSocket MQTT peer that keeps what it receives, with the frame type. */
async function wsPeer(url: string): Promise<{ ws: WebSocket; frames: Array<{ binary: boolean; bytes: Buffer }>; closed: Promise<void> }> {
  const ws = new WebSocket(url, ['mqtt'])
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const frames: Array<{ binary: boolean; bytes: Buffer }> = []
  ws.on('message', (data, isBinary) => frames.push({ binary: isBinary, bytes: Buffer.from(data as Buffer) }))
  const closed = new Promise<void>(resolve => ws.once('close', () => resolve()))
  return { ws, frames, closed }
}

const bytesOf = (p: Packet): Buffer => mqttPacket.generate(p, { protocolVersion: 4 })
const connect = (clientId: string): Buffer =>
  bytesOf({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: true, keepalive: 60 } as Packet)

/** Resolves true when the connection closes within the bound, false when it is still open after it. */
async function closesWithin(closed: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const open = new Promise<boolean>(resolve => {
    timer = setTimeout(() => resolve(false), ms)
  })
  const result = await Promise.race([closed.then(() => true), open])
  clearTimeout(timer)
  return result
}

describe('MQTT over WebSocket: binary frames only', { timeout: 30_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker()
  })
  after(async () => {
    await broker.close()
  })

  test('a CONNECT in a text frame gets no CONNACK: the connection is closed [MQTT-6.0.0-1]', async () => {
    const peer = await wsPeer(broker.wsUrl)
    peer.ws.send(connect('ws-text-connect'), { binary: false })
    assert.equal(await closesWithin(peer.closed, 5000), true, 'closed')
    assert.deepEqual(peer.frames, [], 'nothing came back')
  })

  test('a text frame after a binary CONNECT closes the connection too; binary frames are served [MQTT-6.0.0-1]', async () => {
    const peer = await wsPeer(broker.wsUrl)
    const received = (): string => Buffer.concat(peer.frames.map(f => f.bytes)).toString('hex')
    peer.ws.send(connect('ws-text-later'), { binary: true })
    peer.ws.send(bytesOf({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'ws/t', qos: 0 }] } as Packet), { binary: true })
    const deadline = Date.now() + 5000
    while (received().length < 18 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    // CONNACK and SUBACK, in one binary frame or two (a turn's packets go out together).
    assert.equal(received(), '200200009003000100', 'binary CONNECT and SUBSCRIBE are answered')
    assert.ok(peer.frames.every(f => f.binary))
    // Its bytes are ASCII, so a valid text frame: only the frame type is wrong.
    const publish = bytesOf({ cmd: 'publish', topic: 'ws/t', payload: Buffer.from('text'), qos: 0, retain: false, dup: false } as Packet)
    peer.ws.send(publish, { binary: false })
    assert.equal(await closesWithin(peer.closed, 5000), true, 'closed')
    assert.equal(received(), '200200009003000100', 'the PUBLISH in a text frame was not routed back to its own subscription')
  })
})
