// The adapters' connections as RabbitMQ's management API shows them, one list for both protocols:
// name "<peer>:<port> -> <host>:<port>", protocol and version, user, vhost, peer, connected_at,
// client properties (MQTT: the client id), channels, byte rates and message_stats (RabbitMQ has
// these per channel; a connection's here are its channels' summed, an MQTT connection's its own).
// Closing goes to the adapter that has the connection.
import type { ConnectionCountsVisitor } from '../../core/metering/message-counts.ts'
import type { AmqpAdapter } from '../../adapters/amqp/amqp-adapter.ts'
import type { MqttAdapter } from '../../adapters/mqtt/mqtt-adapter.ts'
import type { ConnectionSource } from './management-context.ts'
import type { ManagementRates } from './management-rates.ts'
import { plainArguments } from './model-json.ts'

const MQTT_PROTOCOL_NAMES = { 3: 'MQTT 3.1', 4: 'MQTT 3.1.1', 5: 'MQTT 5.0' } as const

export function connectionSource(amqp: AmqpAdapter, mqtt: MqttAdapter, rates: ManagementRates, node: string): ConnectionSource {
  return {
    connections: () => [
      ...amqp.connections().map(c => ({
        name: c.name,
        node,
        type: 'network',
        protocol: 'AMQP 0-9-1',
        user: c.user ?? '',
        vhost: c.vhost ?? '',
        peer_host: c.peerHost,
        peer_port: c.peerPort,
        host: c.host,
        port: c.port,
        ssl: c.tls,
        connected_at: c.connectedAtMs,
        state: c.state,
        channels: c.channels,
        client_properties: plainArguments(c.clientProperties),
        timeout: c.heartbeatSeconds,
        frame_max: c.frameMax,
        channel_max: c.channelMax,
        ...rates.connectionBytes.stats(c.messages, c),
        message_stats: rates.messageStats.stats(c.messages, c.messages)
      })),
      ...mqtt.connections().map(c => ({
        name: c.name,
        node,
        type: 'network',
        protocol: MQTT_PROTOCOL_NAMES[c.protocolVersion],
        user: c.username ?? '',
        vhost: c.vhost,
        peer_host: c.remoteAddress,
        peer_port: c.peerPort,
        host: c.host,
        port: c.port,
        ssl: c.transport === 'tls' || c.transport.endsWith(' tls'),
        connected_at: c.connectedAtMs,
        state: 'running',
        channels: 0,
        client_id: c.clientId,
        client_properties: { client_id: c.clientId, transport: c.transport, clean_session: c.clean },
        timeout: c.keepAliveSeconds,
        ...rates.connectionBytes.stats(c.messages, c),
        message_stats: rates.messageStats.stats(c.messages, c.messages)
      }))
    ],
    channels: () =>
      amqp.channels().map(ch => ({
        name: `${ch.connection} (${ch.number})`,
        node,
        number: ch.number,
        user: ch.user ?? '',
        vhost: ch.vhost ?? '',
        connection_details: { name: ch.connection },
        consumer_count: ch.consumers,
        messages_unacknowledged: ch.unacked,
        prefetch_count: ch.prefetchCount,
        global_prefetch_count: ch.globalPrefetchCount,
        confirm: ch.confirm,
        transactional: ch.transactional,
        state: 'running',
        message_stats: rates.messageStats.stats(ch.messages, ch.messages)
      })),
    sampleRates: () => {
      // One scratch object refilled per connection: a sample of 10,000 clients builds nothing per client.
      const bytes = { recvBytes: 0, sendBytes: 0 }
      const sample: ConnectionCountsVisitor = (messages, recvBytes, sendBytes) => {
        bytes.recvBytes = recvBytes
        bytes.sendBytes = sendBytes
        rates.connectionBytes.sample(messages, bytes)
        rates.messageStats.sample(messages, messages)
      }
      amqp.visitCounts(sample)
      mqtt.visitCounts(sample)
      for (const ch of amqp.channels()) rates.messageStats.sample(ch.messages, ch.messages)
    },
    close: (name, reason) => amqp.closeConnection(name, reason) || mqtt.closeConnection(name, reason)
  }
}
