// The AMQP 0-9-1 server: accepts sockets, counts and limits connections, closes them on shutdown.
// Everything a connection does goes through the core Broker it is given.
import type { ConnectionCountsVisitor, MessageCounts } from '../../core/metering/message-counts.ts'
import type { Socket } from 'node:net'
import type { AmqpConfig } from '../../edge-config/config-types.ts'
import type { AccessControl } from '../../core/auth/access-control.ts'
import type { Logger } from '../../core/logger.ts'
import { latencyBucketsSeconds, type Metrics } from '../../core/metrics.ts'
import { RateLimitedLog } from '../../core/rate-limited-log.ts'
import { UsageMeter } from '../../core/metering/usage-meter.ts'
import type { Broker } from '../../core/model/broker.ts'
import { systemClock, type Clock } from '../../core/clock.ts'
import { CONNECTION_FORCED } from './codec/reply-codes.ts'
import { AmqpException } from './amqp-errors.ts'
import { AmqpConnection, type AmqpPeer, type AmqpServerContext, type PublishAlarm } from './connection.ts'
import { noPublishHold, type PublishHold } from '../../core/limits/publish-hold.ts'
import type { AbuseLimits } from '../../core/limits/abuse-limits.ts'
import { serverProperties } from './server-properties.ts'
import { PropertyInterner } from './property-interner.ts'
import { StringInterner } from '../../core/util/string-interner.ts'

export interface AmqpAdapterOptions {
  readonly amqp: AmqpConfig
  /** Users, vhosts and permissions (core/auth). */
  readonly access: AccessControl
  readonly broker: Broker
  readonly logger: Logger
  readonly metrics: Metrics
  /** Messages and bytes in and out per vhost, user and protocol; absent: counted nowhere. */
  readonly usage?: UsageMeter
  /** log.repeatIntervalSeconds: a repeated warning is written once per interval, with a count (default 10). */
  readonly warnIntervalSeconds?: number
  readonly version: string
  /** This Wharf's id, told to clients in the server properties (wharf-node-id). */
  readonly nodeId?: string
  /** Absent: the system clock. */
  readonly clock?: Clock
  /** Publish rates and connection counts shared with MQTT; absent: none. */
  readonly limits?: AbuseLimits
}

export interface AmqpConnectionInfo {
  /** RabbitMQ's connection name: "<peer host>:<peer port> -> <host>:<port>". */
  readonly name: string
  readonly user: string | null
  readonly vhost: string | null
  readonly peerHost: string | null
  readonly peerPort: number | null
  readonly host: string | null
  readonly port: number | null
  readonly tls: boolean
  readonly channels: number
  readonly connectedAtMs: number
  readonly state: string
  readonly clientProperties: Readonly<Record<string, unknown>>
  readonly heartbeatSeconds: number
  readonly frameMax: number
  readonly channelMax: number
  readonly recvBytes: number
  readonly sendBytes: number
  /** Messages published, confirmed, delivered, acked... on all its channels since it opened (live counts). */
  readonly messages: Readonly<MessageCounts>
}

export interface AmqpChannelInfo {
  readonly connection: string
  readonly number: number
  readonly user: string | null
  readonly vhost: string | null
  readonly consumers: number
  readonly unacked: number
  readonly prefetchCount: number
  readonly globalPrefetchCount: number
  readonly confirm: boolean
  readonly transactional: boolean
  /** The channel's own message counts (live). */
  readonly messages: Readonly<MessageCounts>
}

export interface AmqpAdapter {
  /** Serve one connection; `peer` says what the listener knows (its name, a certificate identity on AMQPS). */
  handle(socket: Socket, peer?: AmqpPeer): void
  readonly openConnections: number
  /** Open connections per listener. */
  openByListener(): Map<string, number>
  /** Connections not read from because they published while the resource alarm held. */
  blockedPublishers(): number
  connections(): AmqpConnectionInfo[]
  /** The counters of every connection, for the management API's rate sampler: read in place, nothing built per connection. */
  visitCounts(visit: ConnectionCountsVisitor): void
  channels(): AmqpChannelInfo[]
  /** Closes the named connection with 320 CONNECTION_FORCED and the reason (the management API's DELETE); false: no such connection. */
  closeConnection(name: string, reason: string): boolean
  /**
   * A resource alarm changed (reasonFor: what holds each vhost now): clients in a vhost it holds that
   * understand it get connection.blocked (unblocked once it clears), and a connection that publishes
   * meanwhile is not read from.
   */
  setBlocked(reasonFor: PublishHold): void
  /** The vhost was deleted: its connections are closed with 320 CONNECTION_FORCED, as RabbitMQ. */
  closeVhost(name: string): void
  /** Closes every connection with 320 CONNECTION_FORCED and waits (bounded) for their sockets. */
  close(): Promise<void>
}

const CLOSE_WAIT_MS = 2000
/** Exchange names and routing keys kept once (a fixed bound: a cache, not a limit anyone meets). */
const NAMES_KEPT_MAX = 4096

export function createAmqpAdapter(opts: AmqpAdapterOptions): AmqpAdapter {
  const log = opts.logger.child({ component: 'amqp' })
  const { metrics } = opts
  const alarm: PublishAlarm = { reasonFor: noPublishHold }
  const clock = opts.clock ?? systemClock
  // Warnings a flood of bad connections repeats (refusals, handshake and partial-frame deadlines).
  const warnings = new RateLimitedLog(log, (opts.warnIntervalSeconds ?? 10) * 1000, clock)
  const ctx: AmqpServerContext = {
    broker: opts.broker,
    alarm,
    properties: new PropertyInterner(),
    names: new StringInterner(NAMES_KEPT_MAX),
    access: opts.access,
    abuseLimits: opts.limits,
    warnOnce: warnings,
    partialFrameTimeouts: metrics.counter(
      'wharf_amqp_partial_frame_timeouts_total',
      'AMQP connections closed holding part of a frame for amqp.partialFrameTimeoutSeconds'
    ),
    limits: opts.amqp,
    serverProperties: serverProperties(opts.version, opts.nodeId),
    logger: log,
    usage: opts.usage ?? new UsageMeter(),
    clock,
    counters: {
      published: metrics.counter('wharf_amqp_messages_published_total', 'AMQP basic.publish messages received'),
      delivered: metrics.counter('wharf_amqp_messages_delivered_total', 'AMQP basic.deliver and basic.get-ok messages sent'),
      authFailures: metrics.counter('wharf_amqp_auth_failures_total', 'AMQP logins refused'),
      connectionErrors: metrics.counter('wharf_amqp_connection_errors_total', 'AMQP connections closed by the server on an error'),
      heartbeatTimeouts: metrics.counter('wharf_amqp_heartbeat_timeouts_total', 'AMQP connections dropped after two missed heartbeat intervals'),
      handshakeTimeouts: metrics.counter(
        'wharf_amqp_handshake_timeouts_total',
        'AMQP connections closed without connection.open completed within amqp.handshakeTimeoutSeconds'
      ),
      publishAck: metrics.histogram(
        'wharf_publish_ack_seconds',
        'From a publish received to its acknowledgement sent (MQTT PUBACK/PUBREC, AMQP confirm), after the commit',
        latencyBucketsSeconds,
        ['protocol']
      )({ protocol: 'amqp' })
    }
  }
  const refused = metrics.counter('wharf_amqp_connections_refused_total', 'AMQP connections refused at amqp.maxConnections')
  const open = new Set<AmqpConnection>()
  // Where and when each connection came, kept at accept: a closed socket forgets its addresses.
  const accepted = new WeakMap<AmqpConnection, { name: string; atMs: number }>()
  let nextId = 1
  let closing = false
  metrics.gauge('wharf_amqp_connections_open', 'Open AMQP connections', () => open.size)

  return {
    get openConnections() {
      return open.size
    },
    blockedPublishers() {
      let n = 0
      for (const c of open) if (c.blockedByResourceAlarm) n++
      return n
    },
    openByListener() {
      const n = new Map<string, number>()
      for (const c of open) n.set(c.listener, (n.get(c.listener) ?? 0) + 1)
      return n
    },
    handle(socket, peer) {
      if (closing || open.size >= opts.amqp.maxConnections) {
        refused.inc()
        if (!closing) warnings.warn('connection refused: amqp.maxConnections reached', { maxConnections: opts.amqp.maxConnections, peer: socket.remoteAddress })
        socket.destroy()
        return
      }
      const conn = new AmqpConnection(nextId++, socket, ctx, peer)
      accepted.set(conn, { name: connectionName(socket), atMs: clock.nowMs() })
      open.add(conn)
      conn.onClosed(() => open.delete(conn))
      conn.start()
    },
    connections() {
      return [...open].map(c => connectionInfo(c, accepted.get(c)))
    },
    visitCounts(visit) {
      for (const c of open) visit(c.messages, c.socket.bytesRead, c.socket.bytesWritten)
    },
    channels() {
      const out: AmqpChannelInfo[] = []
      for (const c of open) {
        const connection = accepted.get(c)?.name ?? connectionName(c.socket)
        for (const ch of c.channels.values()) {
          out.push({
            connection,
            number: ch.id,
            user: c.user?.username ?? null,
            vhost: c.vhost?.name ?? null,
            consumers: ch.consumers.size,
            unacked: ch.unacked.size,
            prefetchCount: ch.consumerPrefetch,
            globalPrefetchCount: ch.channelPrefetch,
            confirm: ch.confirm !== undefined,
            transactional: ch.tx !== undefined,
            messages: ch.messages
          })
        }
      }
      return out
    },
    closeConnection(name, reason) {
      for (const c of open) {
        if (c.state === 'closing' || c.state === 'closed' || (accepted.get(c)?.name ?? connectionName(c.socket)) !== name) continue
        c.closeConnection(new AmqpException(CONNECTION_FORCED, reason))
        return true
      }
      return false
    },
    setBlocked(reasonFor) {
      alarm.reasonFor = reasonFor
      for (const c of open) c.alarmChanged()
    },
    closeVhost(name) {
      for (const c of open) if (c.vhost?.name === name) c.closeConnection(new AmqpException(CONNECTION_FORCED, `vhost '${name}' is deleted`))
    },
    async close() {
      closing = true
      const gone = [...open].map(
        c =>
          new Promise<void>(resolve => {
            if (c.state === 'closed') {
              resolve()
              return
            }
            c.onClosed(resolve)
            c.closeConnection(new AmqpException(CONNECTION_FORCED, 'broker shutdown'))
            clock.setTimer(() => {
              c.socket.destroy()
            }, CLOSE_WAIT_MS)
          })
      )
      await Promise.all(gone)
      warnings.close()
    }
  }
}

function connectionName(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'} -> ${socket.localAddress ?? '?'}:${socket.localPort ?? '?'}`
}

function connectionInfo(c: AmqpConnection, accepted: { name: string; atMs: number } | undefined): AmqpConnectionInfo {
  const s = c.socket
  return {
    name: accepted?.name ?? connectionName(s),
    user: c.user?.username ?? null,
    vhost: c.vhost?.name ?? null,
    peerHost: s.remoteAddress ?? null,
    peerPort: s.remotePort ?? null,
    host: s.localAddress ?? null,
    port: s.localPort ?? null,
    tls: 'encrypted' in s && (s as { encrypted?: boolean }).encrypted === true,
    channels: c.channels.size,
    connectedAtMs: accepted?.atMs ?? 0,
    state: c.state === 'open' ? 'running' : c.state,
    clientProperties: c.clientProperties,
    heartbeatSeconds: c.heartbeatSeconds,
    frameMax: c.frameMax,
    channelMax: c.channelMax,
    recvBytes: s.bytesRead,
    sendBytes: s.bytesWritten,
    messages: c.messages
  }
}
