import { WebSocketServer, createWebSocketStream } from 'ws'
import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

export interface WsTransportOptions {
  path: string
  maxPayloadBytes: number
  onConnection: (stream: Duplex, req: IncomingMessage) => void
}

// MQTT over WebSocket is only a transport: each binary message feeds the same MQTT stream parser
// as TCP does ([MQTT-6.0.0-2]: a control packet may span several WebSocket frames).
const MQTT_SUBPROTOCOLS = ['mqtt', 'mqttv3.1']

export function attachWsTransport(server: HttpServer, opts: WsTransportOptions): WebSocketServer {
  const wss = new WebSocketServer({
    server,
    path: opts.path,
    maxPayload: opts.maxPayloadBytes,
    // Browsers send "mqtt"; a client that offers no subprotocol is served too, one that offers
    // only others is refused as MQTT-over-WebSocket requires ([MQTT-6.0.0-3]).
    handleProtocols: (offered: Set<string>) => {
      for (const p of MQTT_SUBPROTOCOLS) if (offered.has(p)) return p
      return false
    }
  })
  wss.on('connection', (socket, req) => {
    // MQTT travels in binary frames only; any other data frame closes the connection [MQTT-6.0.0-1].
    // Registered before the stream's own listener, so the frame's bytes never reach the MQTT parser.
    socket.on('message', (_data, isBinary) => {
      if (isBinary) return
      socket.close(1003, 'MQTT is carried in binary frames')
      stream.destroy(new Error('a WebSocket text frame: MQTT is carried in binary frames [MQTT-6.0.0-1]'))
    })
    const stream = createWebSocketStream(socket)
    // The MQTT adapter corks a turn's packets and uncorks them together; without _writev the
    // stream would send each packet (even each part of one) as its own frame and syscall. One
    // binary frame per batch is still a valid MQTT byte stream [MQTT-6.0.0-2].
    stream._writev = (chunks, callback) => {
      socket.send(chunks.length === 1 ? (chunks[0] as { chunk: Buffer }).chunk : Buffer.concat(chunks.map(c => c.chunk as Buffer)), callback)
    }
    stream.on('error', () => stream.destroy())
    opts.onConnection(stream, req)
  })
  return wss
}
