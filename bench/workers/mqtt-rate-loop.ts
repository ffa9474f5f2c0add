import type { IClientPublishOptions, MqttClient } from 'mqtt'
import { encodePayload, monotonicMs } from './payload.ts'
import type { PublishOutcome, PublishPlan } from './publish-loops.ts'

const QOS1: IClientPublishOptions = { qos: 1 }
const RATE_TICK_MS = 1

/**
 * QoS 1 at a fixed rate: message n is due at start + n/rate and carries process.hrtime taken
 * just before publish(). With `inflight` PUBACKs outstanding, late messages go as soon as a slot
 * frees (and are timed from then). Stops at `messages` or the plan's deadline, then waits for the
 * outstanding PUBACKs. (The same schedule as mqtt-latency.ts, with a deadline.)
 */
export function publishQos1AtRate(client: MqttClient, plan: PublishPlan, inflight: number, ratePerS: number): Promise<PublishOutcome> {
  return new Promise((resolve, reject) => {
    const startMs = monotonicMs()
    let sent = 0
    let acked = 0
    let stopped = false
    let failed = false
    const finishIfDone = (): void => {
      if (failed || acked < sent || !(stopped || sent >= plan.messages)) return
      clearInterval(timer)
      resolve({ sent, acked, startMs, endMs: monotonicMs() })
    }
    const onAck = (err?: Error): void => {
      if (err !== undefined && err !== null) {
        failed = true
        clearInterval(timer)
        reject(new Error(`publish ${plan.topic}: ${err.message}`))
        return
      }
      acked++
      finishIfDone()
    }
    const tick = (): void => {
      const nowMs = monotonicMs()
      if (nowMs >= plan.deadlineMs) stopped = true
      const due = Math.min(plan.messages, Math.floor(((nowMs - startMs) * ratePerS) / 1000) + 1)
      while (!stopped && !failed && sent < due && sent - acked < inflight) {
        client.publish(plan.topic, encodePayload(plan.payloadBytes, plan.publisherId, sent, process.hrtime.bigint()), QOS1, onAck)
        sent++
      }
      finishIfDone()
    }
    const timer = setInterval(tick, RATE_TICK_MS)
    tick()
  })
}
