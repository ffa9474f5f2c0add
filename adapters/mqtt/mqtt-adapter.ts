// The MQTT adapter: Wharf's own MQTT 3.1 / 3.1.1 / 5.0 engine on mqtt-packet, with every session a
// core queue (DESIGN §2). It builds the engine of every vhost (vhost-engines.ts), restores their
// sessions, and serves connections from any transport (TCP, TLS, WebSocket streams), each in the vhost
// its CONNECT names or its listener's.
import type { ConnectionCountsVisitor, MessageCounts } from '../../core/metering/message-counts.ts'
import type { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import type { IncomingMessage } from 'node:http'
import type { ArchiveConfig, MqttConfig, WharfConfig } from '../../edge-config/config-types.ts'
import type { SqliteStore } from '../../core/storage/sqlite-store.ts'
import type { Logger } from '../../core/logger.ts'
import type { Metrics } from '../../core/metrics.ts'
import type { Broker } from '../../core/model/broker.ts'
import type { PropertiesCodec } from '../../core/model/sqlite/sqlite-durable-store.ts'
import { type Engine, MqttNode, engineCounters } from './engine.ts'
import { UsageMeter } from '../../core/metering/usage-meter.ts'
import { VhostEngines } from './vhost-engines.ts'
import { claimRetainedWithoutVhost } from './retained.ts'
import { MqttConnection } from './connection.ts'
import type { CertificateIdentity } from '../../core/auth/certificate-identity.ts'
import type { AbuseLimits } from '../../core/limits/abuse-limits.ts'
import { MqttAccess } from './access.ts'
import type { AccessControl } from '../../core/auth/access-control.ts'
import { AuthMethods } from './enhanced-auth/auth-method.ts'
import { ScramSha256 } from './enhanced-auth/scram-sha-256.ts'
import { scramUsersFrom } from './enhanced-auth/scram-users.ts'
import { bindArchives } from './archive-bindings.ts'
import { archiveVhost } from '../../edge-config/config-vhosts.ts'
import { importLegacySessions } from './legacy-sessions.ts'
import { startKeepAliveSweep } from './keep-alive.ts'
import { ReasonCode } from './codec/reason-codes.ts'
import type { PublishHold } from '../../core/limits/publish-hold.ts'

export interface MqttAdapterOptions {
  mqtt: MqttConfig
  auth: WharfConfig['auth']
  /** Users, vhosts and permissions (core/auth). */
  access: AccessControl
  store: SqliteStore
  /** The core model MQTT publishes are routed through (each client's vhost, mqtt.exchange). */
  model: Broker
  /** How retained messages keep their properties on disk (the model store's encoding). */
  propertiesCodec: PropertiesCodec
  /** Config `archive`: topic filters kept in streams on the MQTT exchange. */
  archive: readonly ArchiveConfig[]
  logger: Logger
  metrics: Metrics
  /** Messages and bytes in and out per vhost, user and protocol; absent: counted nowhere. */
  usage?: UsageMeter
  version: string
  /** Stable across restarts (SCRAM-SHA-256 derives unknown users' salts from it). */
  scramServerSecret: Buffer
  /** Publish rates and connection counts shared with AMQP; absent: none. */
  limits?: AbuseLimits
  /** This Wharf's id (gateway/node-id.ts), told to MQTT 5 clients in the CONNACK. */
  nodeId?: string
}

/** The vhosts the MQTT listeners give clients that name none: mqtt.vhost and each listener's own. */
export function mqttListenerVhosts(mqtt: MqttConfig): Set<string> {
  return new Set([mqtt.vhost, mqtt.tls.vhost ?? mqtt.vhost, mqtt.ws.vhost ?? mqtt.vhost, mqtt.ws.tls.vhost ?? mqtt.vhost])
}

export interface MqttConnectionInfo {
  /** As RabbitMQ names connections: "<peer host>:<peer port> -> <host>:<port>". */
  name: string
  clientId: string
  username: string | null
  protocolVersion: 3 | 4 | 5
  clean: boolean
  remoteAddress: string | null
  transport: string
  connectedAtMs: number
  vhost: string
  peerPort: number | null
  host: string | null
  port: number | null
  keepAliveSeconds: number
  recvBytes: number
  sendBytes: number
  /** Messages published, confirmed, delivered and acked since it connected (live counts). */
  messages: Readonly<MessageCounts>
}

export interface MqttAdapter {
  /**
   * Serve one MQTT connection (TCP, TLS or a WebSocket stream). `identity`: the listener names users by
   * client certificate (identityAsUsername), and this is what the verified certificate says. `vhost`:
   * the listener's, for clients whose username names none ('vhost:user'); absent: mqtt.vhost.
   */
  handle(conn: Duplex, req?: IncomingMessage, transport?: string, identity?: CertificateIdentity | null, vhost?: string): void
  /** Open MQTT connections, counted from accept to close (so also those still before CONNECT). */
  readonly openConnections: number
  /** QoS 1/2 publishes refused at the disk watermark since start. */
  readonly refusedPublishes: number
  /** Open connections per transport (tcp, tls, or the WebSocket listener's name). */
  openByTransport(): Map<string, number>
  connections(): MqttConnectionInfo[]
  /**
   * The counters of every connected client, for the management API's rate sampler: read in place,
   * nothing built per connection (an info object for each of 10,000 idle clients every sample was
   * garbage that outlived young-generation collections and grew the heap by ~0.4 MB/s).
   */
  visitCounts(visit: ConnectionCountsVisitor): void
  /**
   * Closes the named connection (the management API's DELETE): MQTT 5 clients get DISCONNECT 0x98
   * Administrative action; the will is published as for any connection that was not ended by its client.
   */
  closeConnection(name: string, reason: string): boolean
  /** A vhost added at runtime: its MQTT exchange, retained messages and sessions are ready before any CONNECT. */
  openVhost(name: string): Promise<void>
  /** A vhost being deleted: its MQTT clients are disconnected (0x98) and its sessions' timers stop. */
  closeVhost(name: string): void
  /** Publish holds changed (reasonFor: what holds each vhost now): QoS 1/2 publishes in a held vhost are refused. */
  setRefusing(reasonFor: PublishHold): void
  close(): Promise<void>
}

export async function createMqttAdapter(opts: MqttAdapterOptions): Promise<MqttAdapter> {
  const { mqtt, logger, metrics } = opts
  const log = logger.child({ component: 'mqtt' })
  if (opts.model.vhost(mqtt.vhost) === undefined)
    throw new Error(`mqtt: vhost '${mqtt.vhost}' (mqtt.vhost) does not exist; configured vhosts: ${[...opts.model.vhosts.keys()].join(', ')}`)
  const methods = new AuthMethods()
  methods.register(new ScramSha256({ ...scramUsersFrom(opts.access.store), serverSecret: opts.scramServerSecret }))
  const access = new MqttAccess({
    control: opts.access,
    listenerVhosts: mqttListenerVhosts(mqtt),
    exchange: mqtt.exchange,
    allowAnonymous: opts.auth.allowAnonymous,
    defaultAcl: opts.auth.defaultAcl
  })
  const node = new MqttNode(mqtt, mqtt.exchange, access, methods, engineCounters(metrics), opts.usage ?? new UsageMeter(), log, opts.model.clock)
  node.nodeId = opts.nodeId ?? null
  node.limits = opts.limits ?? null
  node.vhosts = new VhostEngines(node, { model: opts.model, store: opts.store, propertiesCodec: opts.propertiesCodec, version: opts.version })
  await claimRetainedWithoutVhost(opts.store, mqtt.vhost)
  // Every vhost's engine at start: sessions stored in any vhost resume their expiry and wills now.
  for (const name of opts.model.vhosts.keys()) await node.vhosts.engine(name)
  // Connections start here and move to their vhost's engine at CONNECT.
  const engine = node.vhosts.get(mqtt.vhost) as Engine
  await importLegacySessions(engine, opts.store)
  for (const e of node.vhosts.values())
    await bindArchives(
      e.vhost,
      mqtt.exchange,
      opts.archive.filter(a => archiveVhost(a, mqtt) === e.vhost.name)
    )
  const engines = (): Engine[] => node.vhosts.values()
  metrics.gauge('wharf_mqtt_clients_connected', 'Connected MQTT clients', () => {
    let n = 0
    for (const c of node.connections) if (c.state === 'connected') n++
    return n
  })
  metrics.gauge('wharf_mqtt_connections_open', 'Open MQTT connections (TCP, TLS and WebSocket)', () => node.connections.size)
  metrics.gauge('wharf_mqtt_sessions', 'MQTT sessions (connected and stored), of every vhost', () => engines().reduce((n, e) => n + e.sessions.size, 0))
  const stopSweep = startKeepAliveSweep(node)
  // The TCP socket under each connection (under a WebSocket too). Its name is made when asked: made at
  // accept, it kept a string and the socket's local address object for every idle client.
  const transports = new WeakMap<MqttConnection, Socket>()

  return {
    get openConnections() {
      return node.connections.size
    },
    get refusedPublishes() {
      return node.counters.refused.value
    },
    openByTransport() {
      const n = new Map<string, number>()
      for (const c of node.connections) n.set(c.transport, (n.get(c.transport) ?? 0) + 1)
      return n
    },
    connections() {
      return [...node.connections]
        .filter(c => c.state === 'connected')
        .map(c => {
          const t = transports.get(c)
          return {
            name: t === undefined ? c.clientId : connectionName(t),
            clientId: c.clientId,
            username: c.username,
            protocolVersion: c.protocolVersion,
            clean: c.session?.expirySeconds === 0,
            remoteAddress: c.remoteAddress,
            transport: c.transport,
            connectedAtMs: c.connectedAtMs,
            vhost: c.engine.vhost.name,
            peerPort: t?.remotePort ?? null,
            host: t?.localAddress ?? null,
            port: t?.localPort ?? null,
            keepAliveSeconds: c.keepAliveMs / 1000,
            recvBytes: t?.bytesRead ?? 0,
            sendBytes: t?.bytesWritten ?? 0,
            messages: c.messages
          }
        })
    },
    visitCounts(visit) {
      // forEach, not for...of: a timer runs this, too rarely for V8 to optimise it, and the
      // interpreter would allocate an iterator result per client.
      node.connections.forEach(c => {
        if (c.state !== 'connected') return
        const socket = transports.get(c)
        visit(c.messages, socket?.bytesRead ?? 0, socket?.bytesWritten ?? 0)
      })
    },
    closeConnection(name, reason) {
      for (const c of node.connections) {
        const t = transports.get(c)
        if (c.state !== 'connected' || t === undefined || connectionName(t) !== name) continue
        c.disconnect(ReasonCode.AdministrativeAction, reason)
        return true
      }
      return false
    },
    setRefusing(reasonFor) {
      node.refusingFor = reasonFor
    },
    handle(socket, req, transport = 'tcp', identity = null, vhost = mqtt.vhost) {
      const remote = req?.socket.remoteAddress ?? (socket as { remoteAddress?: string }).remoteAddress ?? null
      if (node.connections.size >= mqtt.maxConnections) {
        node.counters.refusedConnections.inc()
        node.warnOnce.warn('connection refused: mqtt.maxConnections reached', { maxConnections: mqtt.maxConnections })
        socket.destroy()
        return
      }
      const conn = new MqttConnection(socket, engine, remote, transport, identity, vhost)
      transports.set(conn, (req?.socket ?? socket) as Socket)
      node.connections.add(conn)
    },
    async openVhost(name) {
      await node.vhosts.engine(name)
    },
    closeVhost(name) {
      node.vhosts.close(name, `vhost '${name}' deleted`)
    },
    async close() {
      stopSweep()
      for (const c of [...node.connections]) {
        if (c.state === 'connected') c.disconnect(ReasonCode.ServerShuttingDown, 'server shutting down')
        else c.fail('server shutting down')
      }
      node.vhosts.closeAll()
      node.warnOnce.close()
    }
  }
}

/** As RabbitMQ names connections: "<peer host>:<peer port> -> <host>:<port>"; asked of connected clients, whose sockets are open. */
function connectionName(tcp: Socket): string {
  return `${tcp.remoteAddress ?? '?'}:${tcp.remotePort ?? '?'} -> ${tcp.localAddress ?? '?'}:${tcp.localPort ?? '?'}`
}
