import { closeAmqp, connectAmqp, reportChannelErrors } from './amqp-connect.ts'
import { publishConfirmed } from './amqp-confirm-loops.ts'
import { monotonicMs } from './payload.ts'
import { encodeSamples } from './samples-transfer.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: one AMQP publisher on a confirm channel, persistent messages to one queue.
 * connect → ready → (start) → publish → result → (stop) → close.
 */
export interface AmqpPublisherConfig {
  readonly url: string
  readonly name: string
  readonly queue: string
  /** Publish to this exchange with `queue` as the routing key (e.g. amq.topic), instead of to the queue. */
  readonly exchange?: string
  readonly publisherId: number
  readonly messages: number
  readonly durationMs: number
  readonly inflight: number
  readonly payloadBytes: number
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<AmqpPublisherConfig>()

runWorker(config.hardTimeoutMs, async () => {
  const connection = await connectAmqp(config.url, config.name)
  const channel = await connection.createConfirmChannel()
  reportChannelErrors(channel, config.name)
  await sendToParent({ type: 'ready' })
  await nextParentMessage('start')
  const plan = {
    queue: config.queue,
    ...(config.exchange === undefined ? {} : { exchange: config.exchange }),
    publisherId: config.publisherId,
    messages: config.messages,
    deadlineMs: monotonicMs() + config.durationMs,
    payloadBytes: config.payloadBytes
  }
  const outcome = await publishConfirmed(channel, plan, config.inflight)
  await sendToParent({
    type: 'result',
    result: {
      kind: 'amqp-publisher',
      publisherId: config.publisherId,
      sent: outcome.sent,
      confirmed: outcome.confirmed,
      nacked: outcome.nacked,
      startMs: outcome.startMs,
      endMs: outcome.endMs,
      confirmLatencies: encodeSamples(outcome.confirmLatenciesMs)
    }
  })
  await nextParentMessage('stop')
  await closeAmqp(connection)
})
