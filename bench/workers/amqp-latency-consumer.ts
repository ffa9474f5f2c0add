import type { ConsumeMessage } from 'amqplib'
import { closeAmqp, connectAmqp, reportChannelErrors } from './amqp-connect.ts'
import { LatencyReceipts } from './latency-receipts.ts'
import { MEASURED_PUBLISHER_ID } from './rate-phases.ts'
import { readWorkerConfig, nextParentMessage, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: one AMQP consumer (manual acks, per-consumer prefetch) on a queue it binds to an
 * exchange, timing each message from the publisher's send time in the payload. connect → bind →
 * consume → ready → for each round: (finish) → result → (stop) → cancel, close.
 */
export interface AmqpLatencyConsumerConfig {
  readonly url: string
  readonly name: string
  /** Declared (durable) by the harness beforehand; bound here. */
  readonly queue: string
  readonly exchange: string
  readonly bindingKey: string
  readonly prefetch: number
  readonly publishers: number
  readonly maxSeq: number
  readonly rounds: number
  readonly settleMs: number
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<AmqpLatencyConsumerConfig>()

runWorker(config.hardTimeoutMs, async () => {
  const receipts = new LatencyReceipts(config.name, config.publishers, config.maxSeq, MEASURED_PUBLISHER_ID)
  const connection = await connectAmqp(config.url, config.name)
  const channel = await connection.createChannel()
  reportChannelErrors(channel, config.name)
  await channel.bindQueue(config.queue, config.exchange, config.bindingKey)
  // global=false: the limit applies to this consumer, as in RabbitMQ.
  await channel.prefetch(config.prefetch, false)
  const onMessage = (message: ConsumeMessage | null): void => {
    if (message === null) {
      void sendToParent({ type: 'error', message: `${config.name}: the broker cancelled the consumer` })
      return
    }
    receipts.record(message.content, message.fields.redelivered)
    channel.ack(message)
  }
  const { consumerTag } = await channel.consume(config.queue, onMessage, { noAck: false })
  await sendToParent({ type: 'ready' })
  await receipts.answerRounds(config.rounds, config.settleMs)
  await nextParentMessage('stop')
  await channel.cancel(consumerTag)
  await closeAmqp(connection)
})
