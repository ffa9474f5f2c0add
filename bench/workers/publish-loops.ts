import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { IClientPublishOptions, MqttClient } from 'mqtt'
import { encodePayload, monotonicMs } from './payload.ts'

export interface PublishPlan {
  readonly topic: string
  readonly publisherId: number
  readonly messages: number
  /** Publishing stops at `messages` or at this CLOCK_MONOTONIC time, whichever comes first. */
  readonly deadlineMs: number
  readonly payloadBytes: number
}

export interface PublishOutcome {
  readonly sent: number
  readonly acked: number
  readonly startMs: number
  readonly endMs: number
}

const QOS0: IClientPublishOptions = { qos: 0 }
const QOS1: IClientPublishOptions = { qos: 1 }
/**
 * A QoS 1 publisher tops its window up only once half of it has been acknowledged: publishes
 * then leave in writes of inflight/2 packets instead of one or two, which measured here raised
 * Mosquitto's QoS 1 fan-in from ~48k to ~68k msg/s (the generator's syscalls were eating the
 * broker's core).
 */
const REFILL_AT_FRACTION = 0.5
/** How many QoS 0 publishes between looks at the clock and yields to the event loop. */
const QOS0_BATCH = 1024

/**
 * QoS 0 as fast as the socket takes it: publishes are pipelined in one tick (mqtt-packet corks
 * the socket until the next tick, so they leave in one write) until the socket's buffer is
 * full, then waits for 'drain'.
 */
export async function publishQos0(client: MqttClient, plan: PublishPlan): Promise<PublishOutcome> {
  const socket = client.stream as unknown as Writable
  const startMs = monotonicMs()
  let seq = 0
  while (seq < plan.messages && monotonicMs() < plan.deadlineMs) {
    const batchEnd = Math.min(plan.messages, seq + QOS0_BATCH)
    while (seq < batchEnd && !socket.writableNeedDrain) {
      client.publish(plan.topic, encodePayload(plan.payloadBytes, plan.publisherId, seq, 0n), QOS0)
      seq++
    }
    if (socket.writableNeedDrain) await once(socket, 'drain')
    else await new Promise(resolve => setImmediate(resolve))
  }
  while (socket.writableLength > 0) await new Promise(resolve => setImmediate(resolve))
  return { sent: seq, acked: seq, startMs, endMs: monotonicMs() }
}

/**
 * QoS 1 with at most `inflight` PUBACKs outstanding. The window is refilled once half of it is
 * free, in the event loop's check phase, so the refill goes out as one batch of publishes.
 */
export function publishQos1(client: MqttClient, plan: PublishPlan, inflight: number): Promise<PublishOutcome> {
  return new Promise((resolve, reject) => {
    const startMs = monotonicMs()
    let seq = 0
    let acked = 0
    let stopped = false
    let refillScheduled = false
    let failed = false
    const refillAtInflight = Math.floor(inflight * REFILL_AT_FRACTION)
    const finishIfDone = (): boolean => {
      if (acked < seq || !(stopped || seq >= plan.messages)) return false
      resolve({ sent: seq, acked, startMs, endMs: monotonicMs() })
      return true
    }
    const refill = (): void => {
      refillScheduled = false
      if (failed) return
      if (monotonicMs() >= plan.deadlineMs) stopped = true
      while (!stopped && seq - acked < inflight && seq < plan.messages) {
        client.publish(plan.topic, encodePayload(plan.payloadBytes, plan.publisherId, seq, 0n), QOS1, onAck)
        seq++
      }
      finishIfDone()
    }
    const onAck = (err?: Error): void => {
      if (err !== undefined && err !== null) {
        failed = true
        reject(new Error(`publish: ${err.message}`))
        return
      }
      acked++
      if (finishIfDone() || refillScheduled || seq - acked > refillAtInflight) return
      refillScheduled = true
      setImmediate(refill)
    }
    refill()
  })
}
