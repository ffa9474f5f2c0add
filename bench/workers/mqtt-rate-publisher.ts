import { connectClient, endClient } from './mqtt-connect.ts'
import { publishQos1AtRate } from './mqtt-rate-loop.ts'
import { monotonicMs } from './payload.ts'
import type { RatePhase } from './rate-phases.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: one MQTT QoS 1 publisher at a fixed rate over TCP. connect → ready → for each phase:
 * (start) → publish at the rate → result → then (stop) → disconnect.
 */
export interface MqttRatePublisherConfig {
  readonly url: string
  readonly clientId: string
  readonly topic: string
  readonly ratePerS: number
  readonly phases: readonly RatePhase[]
  readonly inflight: number
  readonly payloadBytes: number
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<MqttRatePublisherConfig>()

runWorker(config.hardTimeoutMs, async () => {
  const client = await connectClient(config.url, config.clientId, true)
  client.on('error', err => void sendToParent({ type: 'error', message: `${config.clientId}: ${err.message}` }))
  await sendToParent({ type: 'ready' })
  for (const phase of config.phases) {
    await nextParentMessage('start')
    const plan = {
      topic: config.topic,
      publisherId: phase.publisherId,
      messages: phase.messages,
      deadlineMs: monotonicMs() + phase.sendCapMs,
      payloadBytes: config.payloadBytes
    }
    const outcome = await publishQos1AtRate(client, plan, config.inflight, config.ratePerS)
    await sendToParent({ type: 'result', result: { kind: 'publisher', publisherId: phase.publisherId, ...outcome } })
  }
  await nextParentMessage('stop')
  await endClient(client)
})
