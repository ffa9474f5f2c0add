// An ended connection waits a moment for its peer to close, then cuts it off. Its timer must not outlive
// the close: under a flood of bad connections, each one it kept would hold the socket and the
// connection for that second after the peer had gone (fuzz-connections, issue 11).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { MqttConnection } from './connection.ts'
import type { Engine } from './engine.ts'

/** The part of the engine a connection touches from accept to end, before any CONNECT. */
function engineStub(): Engine {
  return {
    nowMs: () => Date.now(),
    config: { maxInflightMessages: 10, maxPacketBytes: 1 << 20 },
    limits: null,
    connections: new Set(),
    vhost: { name: '/' },
    stats: { sentBytes: 0, receivedBytes: 0 },
    log: { info() {} }
  } as unknown as Engine
}

/** A real TCP pair: the server side wrapped in a connection, the client side left to the test. */
async function pair(clientOptions: { allowHalfOpen?: boolean } = {}): Promise<{ conn: MqttConnection; client: Socket; server: Server; serverSocket: Socket }> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  const accepted = once(server, 'connection')
  const client = connect({ port, host: '127.0.0.1', ...clientOptions })
  client.on('error', () => {})
  const [serverSocket] = (await accepted) as [Socket]
  const engine = engineStub()
  const conn = new MqttConnection(serverSocket, engine, '127.0.0.1', 'tcp')
  engine.connections.add(conn)
  return { conn, client, server, serverSocket }
}

test('a peer that closes after our end clears the linger timer: nothing is kept for its second', { timeout: 5000 }, async () => {
  const { conn, client, server, serverSocket } = await pair()
  conn.end()
  assert.equal(conn.lingering, true)
  // The client answers our FIN with its own (allowHalfOpen false), and the server socket closes.
  await once(serverSocket, 'close')
  assert.equal(conn.lingering, false)
  assert.equal(conn.state, 'closed')
  client.destroy()
  server.close()
})

test('a peer that never closes its side is cut off after the linger time', { timeout: 5000 }, async () => {
  const { conn, client, server, serverSocket } = await pair({ allowHalfOpen: true })
  const startedMs = Date.now()
  conn.end()
  await once(serverSocket, 'close')
  const waitedMs = Date.now() - startedMs
  assert.ok(waitedMs >= 900 && waitedMs < 3000, `socket destroyed after ${waitedMs} ms`)
  assert.equal(conn.lingering, false)
  client.destroy()
  server.close()
})
