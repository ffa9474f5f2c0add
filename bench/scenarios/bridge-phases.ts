import { setTimeout as sleep } from 'node:timers/promises'
import type { AmqpPublisherConfig } from '../workers/amqp-publisher.ts'
import type { AmqpPublisherResult } from '../workers/worker-messages.ts'
import type { WorkerGroup } from '../workers/worker-process.ts'
import { AMQP_PUBLISHER } from './worker-files.ts'

/** What one confirm-channel publisher worker did. */
export interface PublishDone {
  readonly sent: number
  readonly confirmed: number
  readonly nacked: number
  /** Confirmed msg/s, first publish to last confirm (monotonic clock). */
  readonly rate: number
}

export interface PublishPlan {
  readonly url: string
  readonly name: string
  /** The queue (default exchange), or the routing key when `exchange` is given. */
  readonly queue: string
  readonly exchange?: string
  readonly messages: number
  readonly inflight: number
  readonly payloadBytes: number
  readonly durationMs: number
  readonly hardTimeoutMs: number
}

/** One AMQP publisher worker with confirms (bench/workers/amqp-publisher.ts); `onStart` is told when it is sent 'start'. */
export async function publishWithConfirms(group: WorkerGroup, plan: PublishPlan, onStart: () => void = () => {}): Promise<PublishDone> {
  const config: AmqpPublisherConfig = {
    url: plan.url,
    name: plan.name,
    queue: plan.queue,
    ...(plan.exchange === undefined ? {} : { exchange: plan.exchange }),
    publisherId: 0,
    messages: plan.messages,
    durationMs: plan.durationMs,
    inflight: plan.inflight,
    payloadBytes: plan.payloadBytes,
    hardTimeoutMs: plan.hardTimeoutMs
  }
  const worker = group.spawn(plan.name, AMQP_PUBLISHER, config)
  await worker.next('ready')
  onStart()
  worker.send({ type: 'start' })
  const message = await worker.next('result')
  await worker.stop()
  const r = message.result as AmqpPublisherResult
  return { sent: r.sent, confirmed: r.confirmed, nacked: r.nacked, rate: r.confirmed === 0 ? 0 : r.confirmed / (Math.max(r.endMs - r.startMs, 0.001) / 1000) }
}

/** The fields of /api/bridges/{name} the scenario reads. */
export interface BridgeSnapshot {
  readonly state: string
  readonly connectedSinceMs: number | null
  readonly confirmed: number
  readonly redelivered: number
  readonly backlog: { readonly messages: number }
}

const GUEST = `Basic ${Buffer.from('guest:guest').toString('base64')}`
const POLL_MS = 20

export async function bridgeSnapshot(adminUrl: string, name: string): Promise<BridgeSnapshot> {
  const res = await fetch(`${adminUrl}/api/bridges/${encodeURIComponent(name)}`, { headers: { authorization: GUEST }, signal: AbortSignal.timeout(5000) })
  if (res.status !== 200) throw new Error(`GET /api/bridges/${name}: ${res.status}`)
  return (await res.json()) as BridgeSnapshot
}

/** Polls the bridge every 20 ms until `done` holds; the snapshot and the wall-clock time it was seen. */
export async function waitForBridge(
  adminUrl: string,
  name: string,
  what: string,
  done: (s: BridgeSnapshot) => boolean,
  timeoutMs: number,
  signal: AbortSignal
): Promise<{ snapshot: BridgeSnapshot; atMs: number }> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    signal.throwIfAborted()
    const snapshot = await bridgeSnapshot(adminUrl, name)
    const atMs = Date.now()
    if (done(snapshot)) return { snapshot, atMs }
    if (atMs > deadline) throw new Error(`bridge ${name}: ${what} not within ${timeoutMs / 1000} s (last: ${JSON.stringify(snapshot)})`)
    await sleep(POLL_MS)
  }
}
