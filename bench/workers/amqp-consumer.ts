import type { Channel, ConsumeMessage } from 'amqplib'
import { closeAmqp, connectAmqp, reportChannelErrors } from './amqp-connect.ts'
import { monotonicMs, payloadPublisherId, payloadSeq } from './payload.ts'
import { ReceiptCounts } from './receipt-counts.ts'
import { waitForCompletion } from './settle.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: one AMQP consumer with manual acks and a per-consumer prefetch. connect → ready →
 * (start) consume → (finish: what was sent) → until it has all of it, or nothing came for
 * settleMs → cancel → result → (stop) → close.
 */
export interface AmqpConsumerConfig {
  readonly url: string
  readonly name: string
  readonly queue: string
  readonly prefetch: number
  readonly publishers: number
  readonly maxSeq: number
  readonly settleMs: number
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<AmqpConsumerConfig>()

/** Counts and acks every delivery; one ack per message, as an ordinary consumer does. */
class CountingConsumer {
  readonly receipts = new ReceiptCounts(config.publishers, config.maxSeq)
  received = 0
  redelivered = 0
  firstMs = 0
  lastMs = 0

  constructor(private readonly channel: Channel) {}

  readonly onMessage = (message: ConsumeMessage | null): void => {
    if (message === null) {
      void sendToParent({ type: 'error', message: `${config.name}: the broker cancelled the consumer` })
      return
    }
    const nowMs = monotonicMs()
    if (this.received === 0) this.firstMs = nowMs
    this.lastMs = nowMs
    this.received++
    if (message.fields.redelivered) this.redelivered++
    this.receipts.record(payloadPublisherId(message.content), payloadSeq(message.content))
    this.channel.ack(message)
  }
}

runWorker(config.hardTimeoutMs, async () => {
  const connection = await connectAmqp(config.url, config.name)
  const channel = await connection.createChannel()
  reportChannelErrors(channel, config.name)
  // global=false: the limit applies to each consumer, as in RabbitMQ.
  await channel.prefetch(config.prefetch, false)
  const consumer = new CountingConsumer(channel)
  await sendToParent({ type: 'ready' })
  await nextParentMessage('start')
  const { consumerTag } = await channel.consume(config.queue, consumer.onMessage, { noAck: false })
  const { sentPerPublisher } = await nextParentMessage('finish')
  const total = sentPerPublisher.reduce((a, b) => a + b, 0)
  await waitForCompletion(
    () => consumer.receipts.isComplete(total),
    () => consumer.received,
    config.settleMs
  )
  await channel.cancel(consumerTag)
  await sendToParent({
    type: 'result',
    result: {
      kind: 'amqp-consumer',
      name: config.name,
      received: consumer.received,
      redelivered: consumer.redelivered,
      unexpected: consumer.receipts.unexpected,
      firstMs: consumer.firstMs,
      lastMs: consumer.lastMs,
      receipts: consumer.receipts.encode()
    }
  })
  await nextParentMessage('stop')
  await closeAmqp(connection)
})
