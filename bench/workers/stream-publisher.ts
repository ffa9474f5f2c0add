import type { ConfirmChannel } from 'amqplib'
import { closeAmqp, connectAmqp, reportChannelErrors } from './amqp-connect.ts'
import { monotonicMs } from './payload.ts'
import { encodeStreamPayload, type PayloadShape } from './stream-payload.ts'
import { streamResultMessage, type StreamPublishResult } from './stream-replay-messages.ts'
import { nextParentMessage, readWorkerConfig, runWorker, sendToParent } from './worker-ipc.ts'

/**
 * Worker: fills a stream queue with `messages` persistent messages (stream-payload.ts) on one
 * confirm channel, at most `inflight` unconfirmed, the window topped up once half of it is
 * confirmed (as amqp-confirm-loops.ts does). connect → ready → (start) → publish → result → (stop).
 */
export interface StreamPublisherConfig {
  readonly url: string
  readonly queue: string
  readonly messages: number
  readonly inflight: number
  readonly shape: PayloadShape
  readonly hardTimeoutMs: number
}

const config = readWorkerConfig<StreamPublisherConfig>()

function publishAll(channel: ConfirmChannel): Promise<StreamPublishResult> {
  return new Promise(resolve => {
    const startMs = monotonicMs()
    let sent = 0
    let confirmed = 0
    let nacked = 0
    let payloadBytes = 0
    let refillScheduled = false
    const outstanding = (): number => sent - confirmed - nacked
    const refill = (): void => {
      refillScheduled = false
      while (outstanding() < config.inflight && sent < config.messages) {
        const payload = encodeStreamPayload(sent++, config.shape)
        payloadBytes += payload.length
        channel.sendToQueue(config.queue, payload, { persistent: true }, onSettled)
      }
    }
    const onSettled = (err: unknown): void => {
      if (err === null || err === undefined) confirmed++
      else nacked++
      if (sent >= config.messages && outstanding() === 0) {
        resolve({ kind: 'stream-publisher', sent, confirmed, nacked, payloadBytes, startMs, endMs: monotonicMs() })
        return
      }
      if (refillScheduled || outstanding() > config.inflight / 2) return
      refillScheduled = true
      setImmediate(refill)
    }
    refill()
  })
}

runWorker(config.hardTimeoutMs, async () => {
  const connection = await connectAmqp(config.url, 'wharf-bench-stream-publisher')
  const channel = await connection.createConfirmChannel()
  reportChannelErrors(channel, 'stream publisher')
  await sendToParent({ type: 'ready' })
  await nextParentMessage('start')
  await sendToParent(streamResultMessage(await publishAll(channel)))
  await nextParentMessage('stop')
  await closeAmqp(connection)
})
