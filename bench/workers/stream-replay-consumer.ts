import type { Channel, ConsumeMessage } from 'amqplib'
import { closeAmqp, connectAmqp, reportChannelErrors } from './amqp-connect.ts'
import { monotonicMs } from './payload.ts'
import { waitForCompletion } from './settle.ts'
import { isIntactPayload, streamPayloadSeq, type PayloadShape } from './stream-payload.ts'
import { streamResultMessage } from './stream-replay-messages.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: replays a stream queue from `x-stream-offset: first` with a consumer prefetch and manual
 * acks, checking every delivery against the payload its sequence number was published with.
 * connect → ready → (start) consume → until all `messages` arrived, or none for settleMs →
 * cancel → result → (stop) → close.
 */
export interface StreamReplayConfig {
  readonly url: string
  readonly name: string
  readonly queue: string
  readonly messages: number
  readonly prefetch: number
  /** One basic.ack with multiple=true per this many deliveries (and for the last one). */
  readonly ackEvery: number
  readonly shape: PayloadShape
  readonly settleMs: number
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<StreamReplayConfig>()

class ReplayChecker {
  private readonly seen = new Uint8Array(config.messages)
  private previousSeq = -1
  private unacked = 0
  received = 0
  unique = 0
  duplicates = 0
  outOfOrder = 0
  corrupt = 0
  unexpected = 0
  consumeMs = 0
  firstMs = 0
  lastMs = 0

  constructor(private readonly channel: Channel) {}

  get complete(): boolean {
    return this.unique === config.messages
  }

  readonly onMessage = (message: ConsumeMessage | null): void => {
    if (message === null) {
      void sendToParent({ type: 'error', message: `${config.name}: the broker cancelled the consumer` })
      return
    }
    const nowMs = monotonicMs()
    if (this.received === 0) this.firstMs = nowMs
    this.lastMs = nowMs
    this.received++
    this.check(message.content)
    // Acks only give credit back on a stream; batching them is what a replaying consumer does.
    if (++this.unacked >= config.ackEvery || this.complete) {
      this.channel.ack(message, true)
      this.unacked = 0
    }
  }

  private check(content: Buffer): void {
    const seq = streamPayloadSeq(content)
    if (seq < 0 || seq >= config.messages) {
      this.unexpected++
      return
    }
    if (seq !== this.previousSeq + 1) this.outOfOrder++
    this.previousSeq = seq
    if (!isIntactPayload(content, seq, config.shape)) this.corrupt++
    if (this.seen[seq] === 1) {
      this.duplicates++
      return
    }
    this.seen[seq] = 1
    this.unique++
  }
}

runWorker(config.hardTimeoutMs, async () => {
  const connection = await connectAmqp(config.url, config.name)
  const channel = await connection.createChannel()
  reportChannelErrors(channel, config.name)
  // A stream consumer must have a prefetch (as in RabbitMQ); global=false: per consumer.
  await channel.prefetch(config.prefetch, false)
  const checker = new ReplayChecker(channel)
  await sendToParent({ type: 'ready' })
  await nextParentMessage('start')
  checker.consumeMs = monotonicMs()
  const { consumerTag } = await channel.consume(config.queue, checker.onMessage, {
    noAck: false,
    arguments: { 'x-stream-offset': 'first' }
  })
  await waitForCompletion(
    () => checker.complete,
    () => checker.received,
    config.settleMs
  )
  await channel.cancel(consumerTag)
  const { received, unique, duplicates, outOfOrder, corrupt, unexpected, consumeMs, firstMs, lastMs } = checker
  await sendToParent(streamResultMessage({ kind: 'stream-replay', received, unique, duplicates, outOfOrder, corrupt, unexpected, consumeMs, firstMs, lastMs }))
  await nextParentMessage('stop')
  await closeAmqp(connection)
})
