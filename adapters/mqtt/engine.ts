// The MQTT engine's shared state, handed to every handler: the model's vhost and exchange, the
// sessions, retained messages, logins and permissions, limits, counters and the log.
import type { MqttConfig } from '../../edge-config/config-types.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import type { QueueEntry } from '../../core/model/queue-entry.ts'
import type { Logger } from '../../core/logger.ts'
import { latencyBucketsSeconds, type Counter, type Histogram, type Metrics } from '../../core/metrics.ts'
import type { UsageMeter } from '../../core/metering/usage-meter.ts'
import type { Message } from '../../core/model/message.ts'
import type { PublishResult } from '../../core/model/vhost.ts'
import type { SessionHost } from './session-host.ts'
import type { RetainedMessages } from './retained.ts'
import type { Sessions } from './sessions.ts'
import type { MqttAccess } from './access.ts'
import type { AuthMethods } from './enhanced-auth/auth-method.ts'
import type { MqttConnection } from './connection.ts'
import { RateLimitedLog } from '../../core/rate-limited-log.ts'
import type { AbuseLimits } from '../../core/limits/abuse-limits.ts'
import type { Clock } from '../../core/clock.ts'

export interface EngineCounters {
  readonly refusedConnections: Counter
  readonly oversize: Counter
  readonly authFailed: Counter
  readonly publishDenied: Counter
  readonly subscribeDenied: Counter
  readonly clientErrors: Counter
  readonly published: Counter
  readonly refused: Counter
  readonly delivered: Counter
  readonly oversizeDeliveries: Counter
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
    clientErrors: metrics.counter('wharf_mqtt_client_errors_total', 'MQTT connections closed for a protocol or I/O error'),
    published: metrics.counter('wharf_mqtt_messages_published_total', 'MQTT PUBLISH packets accepted from clients'),
    refused: metrics.counter('wharf_mqtt_publish_refused_total', 'MQTT QoS 1/2 publishes refused at the disk watermark'),
    delivered: metrics.counter('wharf_mqtt_messages_delivered_total', 'MQTT PUBLISH packets sent to clients'),
    oversizeDeliveries: metrics.counter('wharf_mqtt_oversize_deliveries_total', "Deliveries skipped for exceeding the client's Maximum Packet Size"),
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

export class Engine implements SessionHost {
  /** Open connections, counted from accept to close (also those still before CONNECT). */
  readonly connections = new Set<MqttConnection>()
  /** The disk watermark: while set, QoS 1/2 publishes are refused. */
  refusing: string | null = null
  readonly warnOnce: RateLimitedLog
  sessions!: Sessions
  readonly startedAtMs: number
  /** Publish rates and connection counts shared with AMQP; null: none configured. */
  limits: AbuseLimits | null = null
  /** This Wharf's id, told to MQTT 5 clients in the CONNACK (User Property wharf-node-id); null: not told. */
  nodeId: string | null = null
  /** $SYS figures. */
  readonly stats = { received: 0, sent: 0, receivedBytes: 0, sentBytes: 0, connectedTotal: 0 }

  constructor(
    readonly config: MqttConfig,
    readonly vhost: Vhost,
    readonly exchange: string,
    readonly retained: RetainedMessages,
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

  nowMs(): number {
    return this.clock.nowMs()
  }

  settle(entry: QueueEntry): void {
    entry.queue.settle(entry, 'acked')
  }

  oversize(clientId: string): void {
    this.counters.oversizeDeliveries.inc()
    this.warnOnce.warn("delivery skipped: larger than the client's Maximum Packet Size", { clientId })
  }

  /** Routes a message through core once; the result's `stored` settles after every durable copy committed. */
  publish(message: Message): PublishResult {
    return this.vhost.publish(this.exchange, message)
  }

  /** Connected clients (past CONNACK). */
  get connectedCount(): number {
    let n = 0
    for (const c of this.connections) if (c.state === 'connected') n++
    return n
  }
}
