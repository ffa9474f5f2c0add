import type { ClientCounts, PublisherResult } from '../workers/worker-messages.ts'
import type { PublisherConfig } from '../workers/mqtt-publisher.ts'
import type { SubscriberConfig } from '../workers/mqtt-subscriber.ts'
import { WorkerGroup, type WorkerProcess } from '../workers/worker-process.ts'
import type { ScenarioContext } from './scenario.ts'
import { MQTT_PUBLISHER, MQTT_SUBSCRIBER } from './worker-files.ts'

/** P publisher processes → S subscriber processes with C clients each, every client on `bench/#`. */
export interface PubSubShape {
  readonly scenario: string
  readonly qos: 0 | 1
  readonly publishers: number
  readonly subscriberProcesses: number
  readonly clientsPerProcess: number
  /** clean=false with a fixed client id, created before the publishers start. */
  readonly persistentSession: boolean
  readonly hardTimeoutMs: number
}

export interface PubSubResult {
  readonly publishers: readonly PublisherResult[]
  readonly clients: readonly ClientCounts[]
}

export const TOPIC_FILTER = 'bench/#'
const SETTLE_MS = { 0: 2000, 1: 5000 } as const

export async function runPubSub(context: ScenarioContext, shape: PubSubShape): Promise<PubSubResult> {
  const group = new WorkerGroup(context.signal)
  try {
    const subscribers = startSubscribers(group, context, shape)
    await Promise.all(subscribers.map(s => s.next('ready')))
    const publishers = startPublishers(group, context, shape)
    await Promise.all(publishers.map(p => p.next('ready')))
    for (const publisher of publishers) publisher.send({ type: 'start' })
    const published = (await Promise.all(publishers.map(p => p.next('result')))).map(m => m.result)
    const sentPerPublisher = published.map(r => (r.kind === 'publisher' ? r.sent : 0))
    for (const subscriber of subscribers) subscriber.send({ type: 'finish', sentPerPublisher })
    const received = (await Promise.all(subscribers.map(s => s.next('result')))).map(m => m.result)
    await group.stopAll()
    return {
      publishers: published.flatMap(r => (r.kind === 'publisher' ? [r] : [])),
      clients: received.flatMap(r => (r.kind === 'subscriber' ? r.clients : []))
    }
  } finally {
    await group.dispose()
  }
}

function startSubscribers(group: WorkerGroup, context: ScenarioContext, shape: PubSubShape): WorkerProcess[] {
  return Array.from({ length: shape.subscriberProcesses }, (_, p) => {
    const clients = Array.from({ length: shape.clientsPerProcess }, (_, c) => {
      const n = p * shape.clientsPerProcess + c
      // The persistent session's id is fixed so that a session left by a crashed run is found and discarded.
      const clientId = shape.persistentSession ? `wharf-bench-${shape.scenario}-sub${n}` : `wharf-bench-${shape.scenario}-sub${n}-${context.runId}`
      return { clientId, clean: !shape.persistentSession }
    })
    const config: SubscriberConfig = {
      url: context.url,
      clients,
      topicFilter: TOPIC_FILTER,
      qos: shape.qos,
      publishers: shape.publishers,
      maxSeq: context.settings.messages,
      settleMs: SETTLE_MS[shape.qos],
      hardTimeoutMs: shape.hardTimeoutMs
    }
    return group.spawn(`subscriber process ${p}`, MQTT_SUBSCRIBER, config)
  })
}

function startPublishers(group: WorkerGroup, context: ScenarioContext, shape: PubSubShape): WorkerProcess[] {
  const { settings } = context
  return Array.from({ length: shape.publishers }, (_, n) => {
    const config: PublisherConfig = {
      url: context.url,
      clientId: `wharf-bench-${shape.scenario}-pub${n}-${context.runId}`,
      publisherId: n,
      topic: `bench/${n}/x`,
      qos: shape.qos,
      messages: settings.messages,
      durationMs: settings.durationS * 1000,
      inflight: settings.inflight,
      payloadBytes: settings.payloadBytes,
      hardTimeoutMs: shape.hardTimeoutMs
    }
    return group.spawn(`publisher ${n}`, MQTT_PUBLISHER, config)
  })
}

/** count / seconds between two CLOCK_MONOTONIC ms times (0 when nothing happened). */
export function ratePerS(count: number, fromMs: number, toMs: number): number {
  if (count === 0) return 0
  return count / (Math.max(toMs - fromMs, 0.001) / 1000)
}

export function publishRate(publishers: readonly PublisherResult[]): number {
  const acked = publishers.reduce((sum, p) => sum + p.acked, 0)
  return ratePerS(acked, Math.min(...publishers.map(p => p.startMs)), Math.max(...publishers.map(p => p.endMs)))
}

/** Deliveries to all clients, from the first delivery to any client to the last to any. */
export function deliveryRate(clients: readonly ClientCounts[]): number {
  const active = clients.filter(c => c.received > 0)
  if (active.length === 0) return 0
  const received = active.reduce((sum, c) => sum + c.received, 0)
  return ratePerS(received, Math.min(...active.map(c => c.firstMs)), Math.max(...active.map(c => c.lastMs)))
}

export function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0)
}
