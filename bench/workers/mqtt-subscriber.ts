import type { MqttClient } from 'mqtt'
import { batchWritesPerRead, connectClient, discardSession, endClient } from './mqtt-connect.ts'
import { monotonicMs, payloadPublisherId, payloadSeq } from './payload.ts'
import { SequenceTracker } from './sequence-tracker.ts'
import { waitForDeliveries } from './settle.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: one or more MQTT subscribers in one process, each counting every sequence number.
 * connect + subscribe → ready → (finish: what was sent) → wait for it → result → (stop) → clean up.
 */
export interface SubscriberConfig {
  readonly url: string
  readonly clients: readonly { readonly clientId: string; readonly clean: boolean }[]
  readonly topicFilter: string
  readonly qos: 0 | 1
  readonly publishers: number
  readonly maxSeq: number
  readonly settleMs: number
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<SubscriberConfig>()

async function subscribeClient(clientId: string, clean: boolean, tracker: SequenceTracker): Promise<MqttClient> {
  // A persistent session left by an earlier run would replay its queue into this one.
  if (!clean) await discardSession(config.url, clientId)
  const client = await connectClient(config.url, clientId, clean)
  client.on('error', err => {
    void sendToParent({ type: 'error', message: `${clientId}: ${err.message}` })
  })
  client.on('message', (_topic, payload) => {
    tracker.record(payloadPublisherId(payload), payloadSeq(payload), monotonicMs())
  })
  if (config.qos === 1) batchWritesPerRead(client)
  const granted = await client.subscribeAsync(config.topicFilter, { qos: config.qos })
  if (granted[0]?.qos !== config.qos) {
    throw new Error(`${clientId}: SUBSCRIBE ${config.topicFilter} QoS ${config.qos} granted ${granted[0]?.qos}`)
  }
  return client
}

runWorker(config.hardTimeoutMs, async () => {
  const trackers = config.clients.map(c => new SequenceTracker(c.clientId, config.publishers, config.maxSeq))
  const clients = await Promise.all(config.clients.map((c, i) => subscribeClient(c.clientId, c.clean, trackers[i] as SequenceTracker)))
  await sendToParent({ type: 'ready' })
  const { sentPerPublisher } = await nextParentMessage('finish')
  await waitForDeliveries(trackers, sentPerPublisher, config.settleMs)
  const counts = trackers.map(t => t.counts(sentPerPublisher))
  await sendToParent({ type: 'result', result: { kind: 'subscriber', clients: counts } })
  await nextParentMessage('stop')
  await Promise.all(clients.map(c => endClient(c)))
  await Promise.all(config.clients.filter(c => !c.clean).map(c => discardSession(config.url, c.clientId)))
})
