import { closeAmqp, connectAmqp, reportChannelErrors } from './amqp-connect.ts'
import { publishConfirmedAtRate } from './amqp-confirm-loops.ts'
import { monotonicMs } from './payload.ts'
import type { RatePhase } from './rate-phases.ts'
import { encodeSamples } from './samples-transfer.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: one AMQP publisher on a confirm channel at a fixed rate, persistent messages to an
 * exchange with one routing key. connect → ready → for each phase: (start) → publish at the
 * rate → result → then (stop) → close.
 */
export interface AmqpRatePublisherConfig {
  readonly url: string
  readonly name: string
  readonly exchange: string
  readonly routingKey: string
  readonly ratePerS: number
  readonly phases: readonly RatePhase[]
  readonly inflight: number
  readonly payloadBytes: number
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<AmqpRatePublisherConfig>()

runWorker(config.hardTimeoutMs, async () => {
  const connection = await connectAmqp(config.url, config.name)
  const channel = await connection.createConfirmChannel()
  reportChannelErrors(channel, config.name)
  await sendToParent({ type: 'ready' })
  for (const phase of config.phases) {
    await nextParentMessage('start')
    const plan = {
      exchange: config.exchange,
      queue: config.routingKey,
      publisherId: phase.publisherId,
      messages: phase.messages,
      deadlineMs: monotonicMs() + phase.sendCapMs,
      payloadBytes: config.payloadBytes
    }
    const outcome = await publishConfirmedAtRate(channel, plan, config.inflight, config.ratePerS)
    await sendToParent({
      type: 'result',
      result: {
        kind: 'amqp-publisher',
        publisherId: phase.publisherId,
        sent: outcome.sent,
        confirmed: outcome.confirmed,
        nacked: outcome.nacked,
        startMs: outcome.startMs,
        endMs: outcome.endMs,
        confirmLatencies: encodeSamples(outcome.confirmLatenciesMs)
      }
    })
  }
  await nextParentMessage('stop')
  await closeAmqp(connection)
})
