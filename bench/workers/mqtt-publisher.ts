import { connectClient, batchWritesPerRead, endClient } from './mqtt-connect.ts'
import { monotonicMs } from './payload.ts'
import { publishQos0, publishQos1 } from './publish-loops.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/** Worker: one MQTT publisher. connect → ready → (start) → publish → result → (stop) → disconnect. */
export interface PublisherConfig {
  readonly url: string
  readonly clientId: string
  readonly publisherId: number
  readonly topic: string
  readonly qos: 0 | 1
  readonly messages: number
  readonly durationMs: number
  readonly inflight: number
  readonly payloadBytes: number
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<PublisherConfig>()

runWorker(config.hardTimeoutMs, async () => {
  const client = await connectClient(config.url, config.clientId, true)
  client.on('error', err => {
    void sendToParent({ type: 'error', message: `${config.clientId}: ${err.message}` })
  })
  if (config.qos === 1) batchWritesPerRead(client)
  await sendToParent({ type: 'ready' })
  await nextParentMessage('start')
  const plan = {
    topic: config.topic,
    publisherId: config.publisherId,
    messages: config.messages,
    deadlineMs: monotonicMs() + config.durationMs,
    payloadBytes: config.payloadBytes
  }
  const outcome = config.qos === 0 ? await publishQos0(client, plan) : await publishQos1(client, plan, config.inflight)
  await sendToParent({ type: 'result', result: { kind: 'publisher', publisherId: config.publisherId, ...outcome } })
  await nextParentMessage('stop')
  await endClient(client)
})
