// The protocol listeners: MQTT over TCP, TLS, WebSocket and secure WebSocket, AMQP and AMQPS, each on
// its own bind address. Every one passes the per-source-IP gate at accept; TLS listeners verify
// client certificates when given a CA, may take the username from them, and have their certificates
// reloaded on SIGHUP; each handshake (TLS, the WebSocket upgrade) has the protocol's deadline.
import { createServer as createNetServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import type { ProtocolTlsConfig, WharfConfig } from '../edge-config/config-types.ts'
import { bindAddresses } from '../edge-config/bind-addresses.ts'
import type { MqttAdapter } from '../adapters/mqtt/mqtt-adapter.ts'
import type { AmqpAdapter } from '../adapters/amqp/amqp-adapter.ts'
import { attachWsTransport } from '../adapters/ws/ws-transport.ts'
import { certificateUsername, type CertificateIdentity } from '../core/auth/certificate-identity.ts'
import { tlsEnabled, tlsServerOptions, type CertificateReloader } from './tls-options.ts'
import type { ConnectionGate } from './connection-gate.ts'

export interface ProtocolPorts {
  mqtt: number
  ws: number
  amqp: number
  mqttTls?: number
  wsTls?: number
  amqpTls?: number
}

export interface ProtocolListenerDeps {
  readonly config: WharfConfig
  readonly mqtt: MqttAdapter
  readonly amqp: AmqpAdapter
  readonly gate: ConnectionGate
  readonly reloader: CertificateReloader
  /** Listens (and registers the server to be closed); returns the bound port. */
  readonly listenOn: (server: Server, port: number, host: string, name: string) => Promise<number>
  /** Registers a cleanup for what start-up opened. */
  readonly onClose: (name: string, fn: () => void) => void
}

export async function startProtocolListeners(deps: ProtocolListenerDeps): Promise<ProtocolPorts> {
  const { config, mqtt, amqp, gate, reloader, listenOn } = deps
  const hosts = bindAddresses(config)
  const connectMs = config.mqtt.connectTimeoutSeconds * 1000
  const handle = mqtt.handle.bind(mqtt)
  const accepted =
    (fn: (socket: Socket) => void) =>
    (socket: Socket): void => {
      if (!socket.destroyed) fn(socket)
    }

  const listen = async (server: Server, port: number, host: string, name: string): Promise<number> => {
    gate.guard(server, name)
    return await listenOn(server, port, host, name)
  }
  // Each MQTT listener's vhost: the one of its clients whose username names none ('vhost:user').
  const { mqtt: m } = config
  const vhosts = { tcp: m.vhost, tls: m.tls.vhost ?? m.vhost, ws: m.ws.vhost ?? m.vhost, wsTls: m.ws.tls.vhost ?? m.vhost }
  const listenWs = async (server: HttpServer, port: number, host: string, name: string, tls: ProtocolTlsConfig | null, vhost: string): Promise<number> => {
    server.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' })
      res.end(`MQTT over WebSocket is served on ${config.mqtt.ws.path}\n`)
    })
    const identityOf = (req: IncomingMessage): CertificateIdentity | null => (tls === null ? null : identity(req.socket as TLSSocket, tls))
    const wss = attachWsTransport(server, {
      path: config.mqtt.ws.path,
      maxPayloadBytes: config.mqtt.maxPacketBytes,
      onConnection: (stream: Duplex, req) => handle(stream, req, name, identityOf(req), vhost)
    })
    server.on('close', () => {
      for (const c of wss.clients) c.terminate()
      wss.close()
    })
    deps.onClose(`${name} clients`, () => {
      for (const c of wss.clients) c.terminate()
    })
    return await listen(server, port, host, name)
  }
  // The upgrade request must come within the CONNECT deadline, checked every second (Node checks every 30 s by default).
  const httpTimeouts = { headersTimeout: connectMs, requestTimeout: connectMs, connectionsCheckingInterval: 1000 }

  const ports: ProtocolPorts = {
    mqtt: await listen(
      createNetServer(
        { noDelay: true },
        accepted(socket => handle(socket, undefined, 'tcp', null, vhosts.tcp))
      ),
      config.mqtt.port,
      hosts.mqtt,
      'mqtt'
    ),
    ws: await listenWs(createHttpServer(httpTimeouts), config.mqtt.ws.port, hosts.ws, 'mqtt websocket', null, vhosts.ws),
    amqp: await listen(
      createNetServer(
        { noDelay: true },
        accepted(socket => amqp.handle(socket))
      ),
      config.amqp.port,
      hosts.amqp,
      'amqp'
    )
  }
  const mqttTls = config.mqtt.tls
  if (tlsEnabled(mqttTls)) {
    const server = createTlsServer({ ...tlsServerOptions(mqttTls, 'mqtt.tls', connectMs), noDelay: true }, socket =>
      handle(socket, undefined, 'tls', identity(socket, mqttTls), vhosts.tls)
    )
    reloader.add('mqtt.tls', server, mqttTls)
    gate.watchHandshakes(server, 'mqtt tls')
    ports.mqttTls = await listen(server, mqttTls.port, hosts.mqttTls, 'mqtt tls')
  }
  const wsTls = config.mqtt.ws.tls
  if (tlsEnabled(wsTls)) {
    const server = createHttpsServer({ ...tlsServerOptions(wsTls, 'mqtt.ws.tls', connectMs), ...httpTimeouts })
    reloader.add('mqtt.ws.tls', server, wsTls)
    gate.watchHandshakes(server, 'mqtt websocket tls')
    ports.wsTls = await listenWs(server, wsTls.port, hosts.wsTls, 'mqtt websocket tls', wsTls, vhosts.wsTls)
  }
  const amqpTls = config.amqp.tls
  if (tlsEnabled(amqpTls)) {
    const server = createTlsServer({ ...tlsServerOptions(amqpTls, 'amqp.tls', config.amqp.handshakeTimeoutSeconds * 1000), noDelay: true }, socket => {
      const certificateIdentity = identity(socket, amqpTls)
      amqp.handle(socket, certificateIdentity === null ? { listener: 'amqps' } : { listener: 'amqps', certificateIdentity })
    })
    reloader.add('amqp.tls', server, amqpTls)
    gate.watchHandshakes(server, 'amqps')
    ports.amqpTls = await listen(server, amqpTls.port, hosts.amqpTls, 'amqps')
  }
  return ports
}

/** On a listener with identityAsUsername: what the verified client certificate names; else null. */
function identity(socket: TLSSocket, tls: ProtocolTlsConfig): CertificateIdentity | null {
  const source = tls.identityAsUsername
  if (source === null) return null
  return { source, username: socket.authorized ? certificateUsername(socket.getPeerCertificate(), source) : null }
}
