// connection.start server-properties: what RabbitMQ advertises, for what Wharf supports.
import type { FieldTable } from './codec/amqp-defs.ts'

/** nodeId: this Wharf's id (gateway/node-id.ts), which a bridge from another Wharf reads to stop loops. */
export function serverProperties(version: string, nodeId?: string): FieldTable {
  const props: Record<string, FieldTable[string]> = {
    product: 'Wharf',
    version,
    platform: `Node.js ${process.version}`,
    copyright: 'Wharf contributors',
    information: 'Multi-protocol edge message broker (MQTT, AMQP 0-9-1)',
    capabilities: {
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      'basic.nack': true,
      consumer_cancel_notify: true,
      'connection.blocked': true,
      per_consumer_qos: true,
      authentication_failure_close: true
    }
  }
  if (nodeId !== undefined) props['wharf-node-id'] = nodeId
  return props
}
