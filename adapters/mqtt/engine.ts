// The MQTT engine's state: what the vhosts share (MqttNode: logins and permissions, limits, counters,
// connections, the log) and what each vhost has of its own (Engine: sessions, retained messages).
import type { MqttConfig } from '../../edge-config/config-types.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { Logger } from '../../core/logger.ts'
import { latencyBucketsSeconds, type Counter, type Histogram, type Metrics } from '../../core/metrics.ts'
import type { UsageMeter } from '../../core/metering/usage-meter.ts'
import type { Message } from '../../core/model/message.ts'
import type { PublishResult } from '../../core/model/vhost.ts'
import type { PacketIdStore, SessionHost } from './session-host.ts'
import type { RestoredDeliveries } from './restored-deliveries.ts'
import type { RetainedMessages } from './retained.ts'
import type { Sessions } from './sessions.ts'
import type { MqttAccess } from './access.ts'
import type { AuthMethods } from './enhanced-auth/auth-method.ts'
import type { MqttConnection } from './connection.ts'
import { RateLimitedLog } from '../../core/rate-limited-log.ts'
import type { AbuseLimits } from '../../core/limits/abuse-limits.ts'
import type { Clock } from '../../core/clock.ts'
import type { VhostEngines } from './vhost-engines.ts'
import { noPublishHold, type PublishHold } from '../../core/limits/publish-hold.ts'

export interface EngineCounters {
  readonly refusedConnections: Counter
  readonly oversize: Counter
  readonly authFailed: Counter
  readonly publishDenied: Counter
  readonly subscribeDenied: Counter
  readonly unsubscribeDenied: Counter
  readonly clientErrors: Counter
  readonly published: Counter
  readonly refused: Counter
  readonly delivered: Counter
  readonly oversizeDeliveries: Counter
  readonly oversizeReplies: Counter
  readonly unsendableDeliveries: Counter
  readonly queueOverflow: Counter
  readonly connectTimeouts: Counter
  readonly partialPacketTimeouts: Counter
  /** From a QoS 1/2 PUBLISH read to its PUBACK / PUBREC sent (after the commit). */
  readonly publishAck: Histogram
}

export function engineCounters(metrics: Metrics): EngineCounters {
  return {
    refusedConnections: metrics.counter('wharf_mqtt_connections_refused_total', 'MQTT connections refused at mqtt.maxConnections'),
    oversize: metrics.counter('wharf_mqtt_oversize_packets_total', 'MQTT connections closed for a packet over mqtt.maxPacketBytes'),
    authFailed: metrics.counter('wharf_mqtt_auth_failures_total', 'MQTT CONNECTs refused for bad credentials or anonymous access'),
    publishDenied: metrics.counter('wharf_mqtt_publish_denied_total', 'MQTT publishes refused by permissions or to a $ topic'),
    subscribeDenied: metrics.counter('wharf_mqtt_subscribe_denied_total', 'MQTT subscriptions refused by permissions (SUBACK 0x80 / 0x87)'),
    unsubscribeDenied: metrics.counter(
      'wharf_mqtt_unsubscribe_denied_total',
      'MQTT unsubscriptions refused by permissions (UNSUBACK 0x87 in MQTT 5; the subscription stays)'
    ),
    clientErrors: metrics.counter('wharf_mqtt_client_errors_total', 'MQTT connections closed for a protocol or I/O error'),
    published: metrics.counter('wharf_mqtt_messages_published_total', 'MQTT PUBLISH packets accepted from clients'),
    refused: metrics.counter('wharf_mqtt_publish_refused_total', 'MQTT QoS 1/2 publishes refused at the disk watermark'),
    delivered: metrics.counter('wharf_mqtt_messages_delivered_total', 'MQTT PUBLISH packets sent to clients'),
    oversizeDeliveries: metrics.counter('wharf_mqtt_oversize_deliveries_total', "Deliveries skipped for exceeding the client's Maximum Packet Size"),
    oversizeReplies: metrics.counter(
      'wharf_mqtt_oversize_replies_total',
      "Server packets other than PUBLISH (SUBACK, UNSUBACK, AUTH, ...) not sent for exceeding the client's Maximum Packet Size"
    ),
    unsendableDeliveries: metrics.counter(
      'wharf_mqtt_unsendable_deliveries_total',
      "Deliveries skipped because the message's routing key is no MQTT Topic Name (empty, '+', '#' or U+0000)"
    ),
    queueOverflow: metrics.counter(
      'wharf_mqtt_queue_overflow_total',
      'Messages dropped at an offline session queue bound (mqtt.maxQueuedMessages / maxQueuedBytes)'
    ),
    connectTimeouts: metrics.counter(
      'wharf_mqtt_connect_timeouts_total',
      'MQTT connections closed without a CONNECT completed within mqtt.connectTimeoutSeconds'
    ),
    partialPacketTimeouts: metrics.counter(
      'wharf_mqtt_partial_packet_timeouts_total',
      'MQTT connections closed holding part of a packet for mqtt.partialPacketTimeoutSeconds'
    ),
    publishAck: metrics.histogram(
      'wharf_publish_ack_seconds',
      'From a publish received to its acknowledgement sent (MQTT PUBACK/PUBREC, AMQP confirm), after the commit',
      latencyBucketsSeconds,
      ['protocol']
    )({ protocol: 'mqtt' })
  }
}

/**
 * What every vhost's engine shares: the listeners' limits and counters, logins and permissions, the
 * open connections (mqtt.maxConnections counts them all, one sweep checks their deadlines) and the
 * disk watermark.
 */
export class MqttNode {
  /** Open connections of every vhost, counted from accept to close (also those still before CONNECT). */
  readonly connections = new Set<MqttConnection>()
  /** The disk watermark, a bridge's backlog: while it holds for a vhost, QoS 1/2 publishes there are refused. */
  refusingFor: PublishHold = noPublishHold
  readonly warnOnce: RateLimitedLog
  readonly startedAtMs: number
  /** Publish rates and connection counts shared with AMQP; null: none configured. */
  limits: AbuseLimits | null = null
  /** This Wharf's id, told to MQTT 5 clients in the CONNACK (User Property wharf-node-id); null: not told. */
  nodeId: string | null = null
  /** The engine of each vhost, opened at CONNECT (vhost-engines.ts). */
  vhosts!: VhostEngines

  constructor(
    readonly config: MqttConfig,
    /** The MQTT exchange of every vhost (RabbitMQ's mqtt.exchange, amq.topic by default). */
    readonly exchange: string,
    /** Logins, the vhost, and the permissions of publishes and subscriptions (RabbitMQ's MQTT mapping). */
    readonly access: MqttAccess,
    readonly authMethods: AuthMethods,
    readonly counters: EngineCounters,
    readonly usage: UsageMeter,
    readonly log: Logger,
    readonly clock: Clock
  ) {
    this.warnOnce = new RateLimitedLog(log, config.warnIntervalSeconds * 1000, clock)
    this.startedAtMs = clock.nowMs()
  }
}

/**
 * The MQTT engine of one vhost, handed to every handler: its sessions, retained messages, wills and
 * $SYS figures, over the node's shared state. One engine per vhost, not a vhost argument on every
 * call: a session, a will or a retained message then cannot reach another vhost by a forgotten
 * argument, and the handlers stay as they were. A connection starts on the engine of mqtt.vhost and
 * moves to its own at CONNECT (handlers/connect.ts).
 */
export class Engine implements SessionHost {
  sessions!: Sessions
  /** $SYS figures of this vhost. */
  readonly stats = { received: 0, sent: 0, receivedBytes: 0, sentBytes: 0, connectedTotal: 0 }

  constructor(
    readonly node: MqttNode,
    readonly vhost: Vhost,
    readonly retained: RetainedMessages
  ) {}

  get config(): MqttConfig {
    return this.node.config
  }
  get exchange(): string {
    return this.node.exchange
  }
  get access(): MqttAccess {
    return this.node.access
  }
  get authMethods(): AuthMethods {
    return this.node.authMethods
  }
  get counters(): EngineCounters {
    return this.node.counters
  }
  get usage(): UsageMeter {
    return this.node.usage
  }
  get log(): Logger {
    return this.node.log
  }
  /** The vhost's session store keeps the outbound packet ids a restart could not work out again. */
  get packetIds(): PacketIdStore {
    return this.sessions.store
  }
  get restoredDeliveries(): RestoredDeliveries {
    return this.sessions.restored
  }
  get clock(): Clock {
    return this.node.clock
  }
  get connections(): Set<MqttConnection> {
    return this.node.connections
  }
  /** Why QoS 1/2 publishes in this vhost are refused now, or null. */
  get refusing(): string | null {
    return this.node.refusingFor(this.vhost.name)
  }
  get warnOnce(): RateLimitedLog {
    return this.node.warnOnce
  }
  get limits(): AbuseLimits | null {
    return this.node.limits
  }
  get nodeId(): string | null {
    return this.node.nodeId
  }
  get startedAtMs(): number {
    return this.node.startedAtMs
  }

  nowMs(): number {
    return this.node.clock.nowMs()
  }

  settle(entry: QueueEntry): void {
    entry.queue.settle(entry, 'acked')
  }

  oversize(clientId: string): void {
    this.counters.oversizeDeliveries.inc()
    this.warnOnce.warn("delivery skipped: larger than the client's Maximum Packet Size", { clientId, vhost: this.vhost.name })
  }

  unsendable(clientId: string, topic: string, problem: string): void {
    this.counters.unsendableDeliveries.inc()
    this.warnOnce.warn('delivery skipped: the routing key is no MQTT Topic Name', { clientId, vhost: this.vhost.name, topic, problem })
  }

  /** Routes a message through core once; the result's `stored` settles after every durable copy committed. */
  publish(message: Message): PublishResult {
    return this.vhost.publish(this.exchange, message)
  }

  /** Connected clients of this vhost (past CONNACK). */
  get connectedCount(): number {
    let n = 0
    // forEach: $SYS asks on a timer, and a for...of in the interpreter allocates per connection.
    this.node.connections.forEach(c => {
      if (c.state === 'connected' && c.engine === this) n++
    })
    return n
  }
}
