// The MQTT adapter: Wharf's own MQTT 3.1 / 3.1.1 / 5.0 engine on mqtt-packet, with every session a
// core queue (DESIGN §2). It builds the engine's state, restores the sessions, and serves
// connections from any transport (TCP, TLS, WebSocket streams).
import type { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import type { IncomingMessage } from 'node:http'
import type { ArchiveConfig, MqttConfig, WharfConfig } from '../../edge-config/config-types.ts'
import type { SqliteStore } from '../../core/storage/sqlite-store.ts'
import type { Logger } from '../../core/logger.ts'
import type { Metrics } from '../../core/metrics.ts'
import type { Broker } from '../../core/model/broker.ts'
import type { PropertiesCodec } from '../../core/model/sqlite/sqlite-durable-store.ts'
import { Engine, engineCounters } from './engine.ts'
import { UsageMeter } from '../../core/metering/usage-meter.ts'
import { Sessions } from './sessions.ts'
import { SessionStore } from './session-store.ts'
import { RetainedMessages } from './retained.ts'
import { MqttConnection } from './connection.ts'
import type { CertificateIdentity } from '../../core/auth/certificate-identity.ts'
import type { AbuseLimits } from '../../core/limits/abuse-limits.ts'
import { MqttAccess } from './access.ts'
import type { AccessControl } from '../../core/auth/access-control.ts'
import { AuthMethods } from './enhanced-auth/auth-method.ts'
import { ScramSha256 } from './enhanced-auth/scram-sha-256.ts'
import { scramUsersFrom } from './enhanced-auth/scram-users.ts'
import { bindArchives } from './archive-bindings.ts'
import { importLegacySessions } from './legacy-sessions.ts'
import { startSysTopics } from './sys-topics.ts'
import { startKeepAliveSweep } from './keep-alive.ts'
import { ReasonCode } from './codec/reason-codes.ts'
import { SESSION_QUEUE_PREFIX } from './topic-grammar.ts'

export interface MqttAdapterOptions {
  mqtt: MqttConfig
  auth: WharfConfig['auth']
  /** Users, vhosts and permissions (core/auth). */
  access: AccessControl
  store: SqliteStore
  /** The core model MQTT publishes are routed through (mqtt.vhost, mqtt.exchange). */
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
}

export interface MqttAdapter {
  /**
   * Serve one MQTT connection (TCP, TLS or a WebSocket stream). `identity`: the listener names users by
   * client certificate (identityAsUsername), and this is what the verified certificate says.
   */
  handle(conn: Duplex, req?: IncomingMessage, transport?: string, identity?: CertificateIdentity | null): void
  /** Open MQTT connections, counted from accept to close (so also those still before CONNECT). */
  readonly openConnections: number
  /** QoS 1/2 publishes refused at the disk watermark since start. */
  readonly refusedPublishes: number
  /** Open connections per transport (tcp, tls, or the WebSocket listener's name). */
  openByTransport(): Map<string, number>
  connections(): MqttConnectionInfo[]
  /**
   * Closes the named connection (the management API's DELETE): MQTT 5 clients get DISCONNECT 0x98
   * Administrative action; the will is published as for any connection that was not ended by its client.
   */
  closeConnection(name: string, reason: string): boolean
  /** The disk watermark: while a reason is set, QoS 1/2 publishes are refused. */
  setRefusing(reason: string | null): void
  close(): Promise<void>
}

export async function createMqttAdapter(opts: MqttAdapterOptions): Promise<MqttAdapter> {
  const { mqtt, logger, metrics } = opts
  const log = logger.child({ component: 'mqtt' })
  const vhost = opts.model.vhost(mqtt.vhost)
  if (vhost === undefined)
    throw new Error(`mqtt: vhost '${mqtt.vhost}' (mqtt.vhost) does not exist; configured vhosts: ${[...opts.model.vhosts.keys()].join(', ')}`)
  if (vhost.exchangeNamed(mqtt.exchange) === undefined) {
    await vhost.declareExchange({ name: mqtt.exchange, type: 'topic', durable: true, autoDelete: false, internal: false, arguments: {} }, false)
  }
  const retained = new RetainedMessages(opts.store, opts.propertiesCodec, mqtt.exchange)
  vhost.attachSink(mqtt.exchange, retained)
  const methods = new AuthMethods()
  methods.register(new ScramSha256({ ...scramUsersFrom(opts.access.store), serverSecret: opts.scramServerSecret }))
  const access = new MqttAccess({
    control: opts.access,
    vhost: mqtt.vhost,
    exchange: mqtt.exchange,
    allowAnonymous: opts.auth.allowAnonymous,
    defaultAcl: opts.auth.defaultAcl
  })
  const engine = new Engine(
    mqtt,
    vhost,
    mqtt.exchange,
    retained,
    access,
    methods,
    engineCounters(metrics),
    opts.usage ?? new UsageMeter(),
    log,
    opts.model.clock
  )
  engine.nodeId = opts.nodeId ?? null
  engine.sessions = new Sessions(engine, new SessionStore(opts.store, mqtt.vhost))
  engine.limits = opts.limits ?? null
  vhost.overflowListeners.add((q, outcome) => {
    if (!q.name.startsWith(SESSION_QUEUE_PREFIX)) return
    engine.counters.queueOverflow.inc()
    engine.warnOnce.warn('queue limit reached, message dropped', { queue: q.name, policy: mqtt.queueOverflow, outcome })
  })
  await engine.sessions.restore()
  await importLegacySessions(engine, opts.store)
  await bindArchives(vhost, mqtt.exchange, opts.archive)
  metrics.gauge('wharf_mqtt_clients_connected', 'Connected MQTT clients', () => engine.connectedCount)
  metrics.gauge('wharf_mqtt_connections_open', 'Open MQTT connections (TCP, TLS and WebSocket)', () => engine.connections.size)
  metrics.gauge('wharf_mqtt_sessions', 'MQTT sessions (connected and stored)', () => engine.sessions.size)
  const stopSys = startSysTopics(engine, opts.version)
  const stopSweep = startKeepAliveSweep(engine)
  // The TCP socket under each connection (under a WebSocket too) and its name, kept at accept.
  const transports = new WeakMap<MqttConnection, { socket: Socket; name: string }>()

  return {
    get openConnections() {
      return engine.connections.size
    },
    get refusedPublishes() {
      return engine.counters.refused.value
    },
    openByTransport() {
      const n = new Map<string, number>()
      for (const c of engine.connections) n.set(c.transport, (n.get(c.transport) ?? 0) + 1)
      return n
    },
    connections() {
      return [...engine.connections]
        .filter(c => c.state === 'connected')
        .map(c => {
          const t = transports.get(c)
          return {
            name: t?.name ?? c.clientId,
            clientId: c.clientId,
            username: c.username,
            protocolVersion: c.protocolVersion,
            clean: c.session?.expirySeconds === 0,
            remoteAddress: c.remoteAddress,
            transport: c.transport,
            connectedAtMs: c.connectedAtMs,
            vhost: mqtt.vhost,
            peerPort: t?.socket.remotePort ?? null,
            host: t?.socket.localAddress ?? null,
            port: t?.socket.localPort ?? null,
            keepAliveSeconds: c.keepAliveMs / 1000,
            recvBytes: t?.socket.bytesRead ?? 0,
            sendBytes: t?.socket.bytesWritten ?? 0
          }
        })
    },
    closeConnection(name, reason) {
      for (const c of engine.connections) {
        if (c.state !== 'connected' || transports.get(c)?.name !== name) continue
        c.disconnect(ReasonCode.AdministrativeAction, reason)
        return true
      }
      return false
    },
    setRefusing(reason) {
      if (reason !== engine.refusing) log.warn(reason === null ? 'publishing accepted again' : 'refusing QoS 1/2 publishes: ' + reason)
      engine.refusing = reason
    },
    handle(socket, req, transport = 'tcp', identity = null) {
      const remote = req?.socket.remoteAddress ?? (socket as { remoteAddress?: string }).remoteAddress ?? null
      if (engine.connections.size >= mqtt.maxConnections) {
        engine.counters.refusedConnections.inc()
        engine.warnOnce.warn('connection refused: mqtt.maxConnections reached', { maxConnections: mqtt.maxConnections })
        socket.destroy()
        return
      }
      const conn = new MqttConnection(socket, engine, remote, transport, identity)
      const tcp = (req?.socket ?? socket) as Socket
      transports.set(conn, { socket: tcp, name: `${tcp.remoteAddress ?? '?'}:${tcp.remotePort ?? '?'} -> ${tcp.localAddress ?? '?'}:${tcp.localPort ?? '?'}` })
      engine.connections.add(conn)
    },
    async close() {
      stopSys()
      stopSweep()
      for (const c of [...engine.connections]) {
        if (c.state === 'connected') c.disconnect(ReasonCode.ServerShuttingDown, 'server shutting down')
        else c.fail('server shutting down')
      }
      engine.sessions.close()
      engine.warnOnce.close()
    }
  }
}
