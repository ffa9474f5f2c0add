import type { ConsumeMessage } from 'amqplib'
import { closeAmqp, connectAmqp, reportChannelErrors } from './amqp-connect.ts'
import { publishConfirmedAtRate, type ConfirmOutcome } from './amqp-confirm-loops.ts'
import { monotonicMs, payloadPublisherId, payloadSentAtNs, payloadSeq } from './payload.ts'
import { summarizeLatencies } from './percentiles.ts'
import { ReceiptCounts } from './receipt-counts.ts'
import { waitForCompletion } from './settle.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: an AMQP publisher (confirm channel, persistent messages, fixed rate) and a consumer
 * (manual acks, prefetch) on one queue, in one process on two connections. The payload carries
 * process.hrtime at publish; hrtime at delivery minus it is the end-to-end latency.
 */
export interface AmqpE2eConfig {
  readonly url: string
  readonly namePrefix: string
  readonly queue: string
  readonly ratePerS: number
  readonly messages: number
  /** Sent first at the same rate and not measured: JIT compilation and first allocations. */
  readonly warmupMessages: number
  readonly inflight: number
  readonly prefetch: number
  readonly payloadBytes: number
  readonly durationMs: number
  readonly settleMs: number
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<AmqpE2eConfig>()

const MEASURED = 0
const WARMUP = 1

runWorker(config.hardTimeoutMs, async () => {
  const receipts = new ReceiptCounts(2, Math.max(config.messages, config.warmupMessages))
  const latencies = new Float64Array(config.messages)
  let samples = 0
  let received = 0
  let redelivered = 0

  const consumerConnection = await connectAmqp(config.url, `${config.namePrefix}-consumer`)
  const consumerChannel = await consumerConnection.createChannel()
  reportChannelErrors(consumerChannel, `${config.namePrefix}-consumer`)
  await consumerChannel.prefetch(config.prefetch, false)
  const onMessage = (message: ConsumeMessage | null): void => {
    if (message === null) {
      void sendToParent({ type: 'error', message: `${config.namePrefix}-consumer: the broker cancelled the consumer` })
      return
    }
    const nowNs = process.hrtime.bigint()
    const publisherId = payloadPublisherId(message.content)
    received++
    if (message.fields.redelivered) redelivered++
    const first = receipts.record(publisherId, payloadSeq(message.content))
    if (first && publisherId === MEASURED) latencies[samples++] = Number(nowNs - payloadSentAtNs(message.content)) / 1e6
    consumerChannel.ack(message)
  }
  const { consumerTag } = await consumerChannel.consume(config.queue, onMessage, { noAck: false })

  const publisherConnection = await connectAmqp(config.url, `${config.namePrefix}-publisher`)
  const publisherChannel = await publisherConnection.createConfirmChannel()
  reportChannelErrors(publisherChannel, `${config.namePrefix}-publisher`)
  await sendToParent({ type: 'ready' })
  await nextParentMessage('start')

  const publish = (publisherId: number, messages: number, durationMs: number): Promise<ConfirmOutcome> =>
    publishConfirmedAtRate(
      publisherChannel,
      { queue: config.queue, publisherId, messages, deadlineMs: monotonicMs() + durationMs, payloadBytes: config.payloadBytes },
      config.inflight,
      config.ratePerS
    )
  let warmupSent = 0
  if (config.warmupMessages > 0) {
    const warmup = await publish(WARMUP, config.warmupMessages, config.durationMs)
    warmupSent = warmup.sent
    await waitForCompletion(
      () => receipts.isComplete(warmupSent),
      () => received,
      config.settleMs
    )
  }
  const outcome = await publish(MEASURED, config.messages, config.durationMs)
  const sentPerPublisher = [outcome.sent, warmupSent]
  await waitForCompletion(
    () => receipts.isComplete(outcome.sent + warmupSent),
    () => received,
    config.settleMs
  )
  await consumerChannel.cancel(consumerTag)
  const { lost, duplicates } = receipts.check(sentPerPublisher)
  await sendToParent({
    type: 'result',
    result: {
      kind: 'amqp-e2e',
      sent: outcome.sent,
      confirmed: outcome.confirmed,
      nacked: outcome.nacked,
      received,
      duplicates,
      lost,
      redelivered,
      sendStartMs: outcome.startMs,
      sendEndMs: outcome.endMs,
      latencyMs: summarizeLatencies(latencies.subarray(0, samples)),
      confirmLatencyMs: summarizeLatencies(outcome.confirmLatenciesMs)
    }
  })
  await nextParentMessage('stop')
  await Promise.all([closeAmqp(publisherConnection), closeAmqp(consumerConnection)])
})
