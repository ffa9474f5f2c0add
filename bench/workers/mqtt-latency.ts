import type { IClientPublishOptions, MqttClient } from 'mqtt'
import { batchWritesPerRead, connectClient, endClient } from './mqtt-connect.ts'
import { encodePayload, monotonicMs, payloadPublisherId, payloadSentAtNs, payloadSeq } from './payload.ts'
import { summarizeLatencies } from './percentiles.ts'
import { SLOW_MS } from './worker-messages.ts'
import { SequenceTracker } from './sequence-tracker.ts'
import { waitForDeliveries } from './settle.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: a publisher at a fixed rate and a subscriber in the same process, QoS 1 both ways.
 * The payload carries process.hrtime at publish; the subscriber's hrtime at receipt minus it
 * is the end-to-end latency (including both clients' event-loop time).
 */
export interface LatencyConfig {
  readonly url: string
  readonly clientIdPrefix: string
  readonly topic: string
  readonly ratePerS: number
  readonly messages: number
  /** Sent first at the same rate and not measured: JIT compilation and first allocations. */
  readonly warmupMessages: number
  readonly inflight: number
  readonly payloadBytes: number
  readonly settleMs: number
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<LatencyConfig>()
const QOS1: IClientPublishOptions = { qos: 1 }
const TICK_MS = 1

const MEASURED = 0
const WARMUP = 1

/** Publishes message n at start + n/rate; sends late ones as soon as a PUBACK slot frees. */
function publishAtRate(client: MqttClient, publisherId: number, messages: number): Promise<{ sent: number; acked: number; startMs: number; endMs: number }> {
  return new Promise((resolve, reject) => {
    const startMs = monotonicMs()
    let sent = 0
    let acked = 0
    const onAck = (err?: Error): void => {
      if (err !== undefined && err !== null) {
        clearInterval(timer)
        reject(new Error(`publish: ${err.message}`))
        return
      }
      acked++
      if (acked === messages) {
        clearInterval(timer)
        resolve({ sent, acked, startMs, endMs: monotonicMs() })
      }
    }
    const tick = (): void => {
      const due = Math.min(messages, Math.floor(((monotonicMs() - startMs) * config.ratePerS) / 1000) + 1)
      while (sent < due && sent - acked < config.inflight) {
        client.publish(config.topic, encodePayload(config.payloadBytes, publisherId, sent, process.hrtime.bigint()), QOS1, onAck)
        sent++
      }
    }
    const timer = setInterval(tick, TICK_MS)
    tick()
  })
}

runWorker(config.hardTimeoutMs, async () => {
  const tracker = new SequenceTracker(`${config.clientIdPrefix}-sub`, 2, Math.max(config.messages, config.warmupMessages))
  const latencies = new Float64Array(config.messages)
  let samples = 0
  // By send order (the sequence number), so that a late message counts where it was due, not where it arrived.
  const laterHalf = new Float64Array(config.messages)
  let laterSamples = 0
  const slowBySecond = new Array<number>(Math.ceil(config.messages / config.ratePerS)).fill(0)
  const subscriber = await connectClient(config.url, `${config.clientIdPrefix}-sub`, true)
  subscriber.on('message', (_topic, payload) => {
    const nowNs = process.hrtime.bigint()
    const seq = payloadSeq(payload)
    const uniqueBefore = tracker.unique
    tracker.record(payloadPublisherId(payload), seq, Number(nowNs) / 1e6)
    if (tracker.unique === uniqueBefore || payloadPublisherId(payload) !== MEASURED) return
    const ms = Number(nowNs - payloadSentAtNs(payload)) / 1e6
    latencies[samples++] = ms
    if (seq >= config.messages / 2) laterHalf[laterSamples++] = ms
    if (ms > SLOW_MS) {
      const second = Math.floor(seq / config.ratePerS)
      slowBySecond[second] = (slowBySecond[second] ?? 0) + 1
    }
  })
  batchWritesPerRead(subscriber)
  await subscriber.subscribeAsync(config.topic, { qos: 1 })
  const publisher = await connectClient(config.url, `${config.clientIdPrefix}-pub`, true)
  for (const client of [subscriber, publisher]) {
    client.on('error', err => void sendToParent({ type: 'error', message: err.message }))
  }
  await sendToParent({ type: 'ready' })
  await nextParentMessage('start')
  if (config.warmupMessages > 0) {
    const warmup = await publishAtRate(publisher, WARMUP, config.warmupMessages)
    await waitForDeliveries([tracker], [0, warmup.sent], config.settleMs)
  }
  const outcome = await publishAtRate(publisher, MEASURED, config.messages)
  const sentPerPublisher = [outcome.sent, config.warmupMessages]
  await waitForDeliveries([tracker], sentPerPublisher, config.settleMs)
  await sendToParent({
    type: 'result',
    result: {
      kind: 'latency',
      sent: outcome.sent,
      acked: outcome.acked,
      counts: tracker.counts(sentPerPublisher),
      sendStartMs: outcome.startMs,
      sendEndMs: outcome.endMs,
      latencyMs: summarizeLatencies(latencies.subarray(0, samples)),
      laterHalfMs: summarizeLatencies(laterHalf.subarray(0, laterSamples)),
      slowBySecond
    }
  })
  await nextParentMessage('stop')
  await Promise.all([endClient(publisher), endClient(subscriber)])
})
