// What one connection or channel did with messages since it opened, counted where it happens with
// plain increments (no map lookup, no label: a few nanoseconds per message). The management API reads
// them as RabbitMQ's message_stats and turns the totals into rates when asked.
export class MessageCounts {
  /** Messages the client published. */
  publish = 0
  /** Publishes acknowledged to the client: AMQP publisher confirms (basic.ack), MQTT PUBACK / PUBREC. */
  confirm = 0
  /** Mandatory publishes routed nowhere and given back (AMQP basic.return). */
  returnUnroutable = 0
  /** Deliveries to consumers that will ack them (AMQP ack mode, MQTT QoS 1 and 2). */
  deliver = 0
  /** Deliveries that need no ack (AMQP no-ack, MQTT QoS 0). */
  deliverNoAck = 0
  /** basic.get answered with a message, ack mode / no-ack. */
  get = 0
  getNoAck = 0
  /** Deliveries of messages delivered before (AMQP redelivered, MQTT DUP resends). */
  redeliver = 0
  /** Deliveries the client acknowledged (AMQP basic.ack, MQTT PUBACK / PUBCOMP). */
  ack = 0
}

/** Receives one connection's counters in place: its messages and the bytes its (TCP) socket moved. */
export type ConnectionCountsVisitor = (messages: Readonly<MessageCounts>, recvBytes: number, sendBytes: number) => void
