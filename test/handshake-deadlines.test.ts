// Deadlines against slow and stalled peers, through raw sockets (a real client never stalls on
// purpose): the MQTT CONNECT deadline, the AMQP handshake deadline, the idle deadline of a partly
// received packet or frame, and the TLS handshake and WebSocket upgrade deadlines. Small configured
// deadlines keep the tests short; every wait is bounded.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect as netConnect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import mqttPacket from 'mqtt-packet'
import { adminFetch } from './support/admin-http.ts'
import { startTestBroker, type TestBroker } from './support/test-broker.ts'
import { rawConnect } from './support/raw-mqtt.ts'
import { RawAmqp } from './support/raw-amqp.ts'
import { makeTestPki, type TestPki } from './support/test-pki.ts'
import { PROTOCOL_HEADER } from '../adapters/amqp/codec/frame-writer.ts'

/** A counter's value, summed over the series whose labels include `labels`. */
async function metric(broker: TestBroker, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await adminFetch(`${broker.adminUrl}/metrics`)).text()
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  return text
    .split('\n')
    .filter(l => (l.startsWith(name + ' ') || l.startsWith(name + '{')) && wanted.every(w => l.includes(w)))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)
}

/** A raw TCP connection and the time from `since` (default: connected) to the server closing it, bounded. */
async function open(port: number): Promise<{ socket: Socket; closedAfterMs: (since?: number, boundMs?: number) => Promise<number> }> {
  const socket = netConnect(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.on('data', () => {})
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const connectedAt = performance.now()
  const closed = new Promise<number>(resolve => socket.once('close', () => resolve(performance.now())))
  return {
    socket,
    closedAfterMs: async (since = connectedAt, boundMs = 8000) => {
      const timeout = new Promise<number>((_resolve, reject) => setTimeout(() => reject(new Error(`not closed within ${boundMs} ms`)), boundMs).unref())
      return (await Promise.race([closed, timeout])) - since
    }
  }
}

function assertAbout(ms: number, deadlineMs: number, what: string): void {
  // The MQTT sweep runs every 250 ms; timers and the loop add a little.
  assert.ok(ms >= deadlineMs - 50 && ms <= deadlineMs + 700, `${what}: closed after ${ms.toFixed(0)} ms, deadline ${deadlineMs} ms`)
}

const connectBytes = mqttPacket.generate({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion: 4,
  clean: true,
  clientId: 'half-a-connect',
  keepalive: 0
} as mqttPacket.IConnectPacket)

describe('MQTT deadlines', { timeout: 60_000 }, () => {
  let broker: TestBroker
  let pki: TestPki
  before(async () => {
    pki = makeTestPki()
    broker = await startTestBroker(c => {
      c.mqtt.connectTimeoutSeconds = 3
      c.mqtt.partialPacketTimeoutSeconds = 1
      c.mqtt.tls = { ...c.mqtt.tls, port: 0, certFile: pki.server.cert, keyFile: pki.server.key }
    })
  })
  after(async () => {
    await broker.close()
    pki.remove()
  })

  test('a socket that sends half a CONNECT is closed at the partial-packet deadline, and counted', async () => {
    const before = await metric(broker, 'wharf_mqtt_partial_packet_timeouts_total')
    const c = await open(broker.node.ports.mqtt)
    c.socket.write(connectBytes.subarray(0, 10))
    const sentAt = performance.now()
    assertAbout(await c.closedAfterMs(sentAt), 1000, 'half a CONNECT')
    assert.equal(await metric(broker, 'wharf_mqtt_partial_packet_timeouts_total'), before + 1)
  })

  test('a socket that sends nothing is closed at the CONNECT deadline, and counted', async () => {
    const before = await metric(broker, 'wharf_mqtt_connect_timeouts_total')
    const c = await open(broker.node.ports.mqtt)
    assertAbout(await c.closedAfterMs(), 3000, 'no CONNECT')
    assert.equal(await metric(broker, 'wharf_mqtt_connect_timeouts_total'), before + 1)
  })

  test('a CONNECT dripped a byte at a time (each within the partial deadline) still meets the CONNECT deadline', async () => {
    const c = await open(broker.node.ports.mqtt)
    let i = 0
    const drip = setInterval(() => {
      if (i < connectBytes.length - 1 && !c.socket.destroyed) c.socket.write(connectBytes.subarray(i, ++i))
    }, 400)
    try {
      assertAbout(await c.closedAfterMs(), 3000, 'a dripped CONNECT')
    } finally {
      clearInterval(drip)
    }
  })

  test('a connected client that stalls mid-PUBLISH is closed at the partial-packet deadline', async () => {
    const { socket, closed } = await rawConnect(broker.node.ports.mqtt, 'stalls-mid-publish')
    const publish = mqttPacket.generate({
      cmd: 'publish',
      topic: 'stall/x',
      payload: Buffer.alloc(200),
      qos: 0,
      retain: false,
      dup: false
    } as mqttPacket.IPublishPacket)
    socket.write(publish.subarray(0, 50))
    const sentAt = performance.now()
    await Promise.race([closed, new Promise((_r, reject) => setTimeout(() => reject(new Error('not closed within 5 s')), 5000).unref())])
    assertAbout(performance.now() - sentAt, 1000, 'half a PUBLISH')
  })

  test('a TLS handshake that never starts is closed at the CONNECT deadline', async () => {
    const c = await open(broker.node.ports.mqttTls as number)
    assertAbout(await c.closedAfterMs(), 3000, 'no ClientHello')
    assert.equal(await metric(broker, 'wharf_tls_handshake_failures_total', { listener: 'mqtt tls', reason: 'timeout' }), 1)
  })

  test('a WebSocket upgrade request left half-sent is closed within the CONNECT deadline (checked every second)', async () => {
    const c = await open(broker.node.ports.ws)
    c.socket.write('GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    const ms = await c.closedAfterMs()
    assert.ok(ms >= 2900 && ms <= 4500, `half an upgrade request closed after ${ms.toFixed(0)} ms (deadline 3000 ms, checked each 1000 ms)`)
  })
})

describe('AMQP deadlines', { timeout: 60_000 }, () => {
  let broker: TestBroker
  before(async () => {
    broker = await startTestBroker(c => {
      c.amqp.handshakeTimeoutSeconds = 3
      c.amqp.partialFrameTimeoutSeconds = 1
    })
  })
  after(async () => {
    await broker.close()
  })

  test('a connection that sends the protocol header and stops is closed at the handshake deadline, and counted', async () => {
    const before = await metric(broker, 'wharf_amqp_handshake_timeouts_total')
    const c = await open(broker.node.ports.amqp)
    c.socket.write(PROTOCOL_HEADER)
    assertAbout(await c.closedAfterMs(), 3000, 'no connection.start-ok')
    assert.equal(await metric(broker, 'wharf_amqp_handshake_timeouts_total'), before + 1)
  })

  test('half a protocol header is closed at the partial-frame deadline', async () => {
    const c = await open(broker.node.ports.amqp)
    c.socket.write(PROTOCOL_HEADER.subarray(0, 4))
    const sentAt = performance.now()
    assertAbout(await c.closedAfterMs(sentAt), 1000, 'half a protocol header')
  })

  test('an open connection that stalls mid-frame is closed at the partial-frame deadline, and counted', async () => {
    const before = await metric(broker, 'wharf_amqp_partial_frame_timeouts_total')
    const { client } = await RawAmqp.open(broker.node.ports.amqp)
    const closed = new Promise<number>(resolve => client.socket.once('close', () => resolve(performance.now())))
    client.write(Buffer.from([1, 0, 1, 0, 0, 0, 20, 0, 20])) // a method frame header announcing 20 bytes, 2 of them sent
    const sentAt = performance.now()
    const at = await Promise.race([closed, new Promise<number>((_r, reject) => setTimeout(() => reject(new Error('not closed within 5 s')), 5000).unref())])
    assertAbout(at - sentAt, 1000, 'half a frame')
    assert.equal(await metric(broker, 'wharf_amqp_partial_frame_timeouts_total'), before + 1)
  })
})
