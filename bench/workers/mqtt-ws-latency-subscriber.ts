import { LatencyReceipts } from './latency-receipts.ts'
import { batchWritesPerRead, endClient } from './mqtt-connect.ts'
import { connectWsClient } from './mqtt-ws-connect.ts'
import { MEASURED_PUBLISHER_ID } from './rate-phases.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: one MQTT subscriber over WebSocket (clean session, subscribed at QoS 1), timing each
 * message from the publisher's send time in the payload. connect → subscribe → ready → for each
 * round: (finish) → result → (stop) → disconnect.
 */
export interface MqttWsLatencySubscriberConfig {
  /** ws://host:port/path */
  readonly url: string
  readonly clientId: string
  readonly topicFilter: string
  readonly publishers: number
  readonly maxSeq: number
  readonly rounds: number
  readonly settleMs: number
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<MqttWsLatencySubscriberConfig>()

runWorker(config.hardTimeoutMs, async () => {
  const receipts = new LatencyReceipts(config.clientId, config.publishers, config.maxSeq, MEASURED_PUBLISHER_ID)
  const client = await connectWsClient(config.url, config.clientId, true)
  client.on('error', err => void sendToParent({ type: 'error', message: `${config.clientId}: ${err.message}` }))
  client.on('message', (_topic, payload, packet) => receipts.record(payload, packet.dup))
  batchWritesPerRead(client)
  const granted = await client.subscribeAsync(config.topicFilter, { qos: 1 })
  const qos = granted[0]?.qos
  if (qos !== 1) throw new Error(`${config.clientId}: subscribe ${config.topicFilter}: granted QoS ${String(qos)}, asked for 1`)
  await sendToParent({ type: 'ready' })
  await receipts.answerRounds(config.rounds, config.settleMs)
  await nextParentMessage('stop')
  await endClient(client)
})
