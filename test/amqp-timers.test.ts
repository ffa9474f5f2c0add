// AMQP handshake deadline and heartbeats on a manual clock: a real listening AMQP server (the
// adapter over a core Broker) and a raw client over TCP, with time moved by hand, so the test
// checks the exact boundaries (silent for two intervals: dropped; a moment before: not) without
// waiting for them. Only socket I/O is awaited, each wait bounded.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { defaultConfig } from '../edge-config/defaults.ts'
import { createLogger } from '../core/logger.ts'
import { Metrics } from '../core/metrics.ts'
import { Broker } from '../core/model/broker.ts'
import { ManualClock } from '../core/manual-clock.ts'
import { createAmqpAdapter, type AmqpAdapter } from '../adapters/amqp/amqp-adapter.ts'
import { HEARTBEAT_FRAME, PROTOCOL_HEADER } from '../adapters/amqp/codec/frame-writer.ts'
import { Methods } from '../adapters/amqp/codec/amqp-defs.ts'
import { RawAmqp } from './support/raw-amqp.ts'
import { eventually } from './support/wait.ts'
import { testAccess, type TestAccess } from './support/access.ts'

describe('AMQP timers on a manual clock', { timeout: 30_000 }, () => {
  const clock = new ManualClock()
  const metrics = new Metrics()
  const logs: Array<Record<string, unknown>> = []
  /** Bytes each server-side socket has read, so a test knows the server saw what the client sent. */
  const serverReads = new Map<number, number>()
  let broker: Broker
  let adapter: AmqpAdapter
  let server: Server
  let port: number
  let access: TestAccess

  before(async () => {
    const config = defaultConfig()
    config.amqp.handshakeTimeoutSeconds = 1
    broker = new Broker({ vhosts: ['/'], clock })
    access = await testAccess()
    adapter = createAmqpAdapter({
      amqp: config.amqp,
      access: access.control,
      broker,
      logger: createLogger('debug', line => {
        logs.push(JSON.parse(line) as Record<string, unknown>)
      }),
      metrics,
      version: 'test',
      clock
    })
    server = createServer((socket: Socket) => {
      socket.on('data', chunk => serverReads.set(socket.remotePort ?? 0, (serverReads.get(socket.remotePort ?? 0) ?? 0) + chunk.length))
      adapter.handle(socket)
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })
  after(async () => {
    await adapter.close()
    broker.close()
    server.close()
    access.close()
  })

  const heartbeatTimeouts = (): number => metrics.value('wharf_amqp_heartbeat_timeouts_total')
  const bytesReadFrom = (client: RawAmqp): number => serverReads.get(client.socket.localPort ?? -1) ?? 0

  test('a connection that does not finish the handshake within handshakeTimeoutSeconds is closed, not a moment before', async () => {
    const client = await RawAmqp.connect(port)
    client.write(PROTOCOL_HEADER)
    await client.expectMethod(Methods.ConnectionStart) // the server has the connection and its deadline
    clock.advance(999)
    assert.equal(
      logs.some(l => l.msg === 'connection closed: handshake not completed in time'),
      false
    )
    clock.advance(1)
    assert.ok(logs.some(l => l.msg === 'connection closed: handshake not completed in time' && l.state === 'starting'))
    await client.waitEnded()
  })

  test('heartbeats: sent after half an interval of quiet; a client silent for two intervals is dropped, one that sends stays', async () => {
    const { client: silent } = await RawAmqp.open(port, { heartbeat: 1 })
    const { client: live } = await RawAmqp.open(port, { heartbeat: 1 })
    const before = heartbeatTimeouts()
    clock.advance(500)
    await silent.waitFor(() => (silent.raw.some(c => c.includes(HEARTBEAT_FRAME)) ? true : undefined), 5000, 'a heartbeat frame')
    await live.waitFor(() => (live.raw.some(c => c.includes(HEARTBEAT_FRAME)) ? true : undefined), 5000, 'a heartbeat frame')

    // The live client answers every half interval; both were last heard at the start.
    for (let elapsedMs = 500; elapsedMs < 2000; elapsedMs += 500) {
      const read = bytesReadFrom(live)
      live.write(HEARTBEAT_FRAME)
      await eventually('the server to read the heartbeat', () => bytesReadFrom(live) > read)
      clock.advance(500)
    }
    assert.equal(heartbeatTimeouts(), before, 'silent for exactly two intervals: not dropped yet')
    assert.equal(silent.ended, false)
    clock.advance(500)
    assert.equal(heartbeatTimeouts(), before + 1, 'silent for more than two intervals: dropped')
    await silent.waitEnded()
    assert.equal(live.ended, false, 'the client that sent heartbeats is still connected')
    live.send(0, Methods.ConnectionClose, { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 })
    await live.expectMethod(Methods.ConnectionCloseOk)
    live.destroy()
  })
})
