import type { AmqpConsumerConfig } from '../workers/amqp-consumer.ts'
import type { AmqpPublisherConfig } from '../workers/amqp-publisher.ts'
import { summarizeLatencies } from '../workers/percentiles.ts'
import { ReceiptCounts } from '../workers/receipt-counts.ts'
import { concatSamples, decodeSamples } from '../workers/samples-transfer.ts'
import type { AmqpConsumerResult, AmqpPublisherResult, LatencySummary } from '../workers/worker-messages.ts'
import { ratePerS, sum } from './pubsub-run.ts'
import type { Figure, ScenarioContext, ScenarioOutcome } from './scenario.ts'
import { declareFreshQueue, deleteQueue } from './amqp-queue.ts'
import { WorkerGroup } from '../workers/worker-process.ts'
import { AMQP_CONSUMER, AMQP_PUBLISHER } from './worker-files.ts'

/** The per-consumer prefetch (basic.qos, global=false) of every AMQP consumer here. */
export const PREFETCH = 100
const CONSUMER_SETTLE_MS = 5000

/** A fixed name per scenario: a queue left by a crashed run is found and deleted by the next. */
export function queueName(scenario: string): string {
  return `wharf-bench-${scenario}`
}

/**
 * Declares the scenario's queue fresh, runs `measure` with a worker group, and afterwards kills
 * any worker left and deletes the queue, whatever happened. The delete is not cut short by the
 * hard timeout (each queue operation has its own bound); if it fails, that is a note.
 */
export async function onFreshQueue(
  context: ScenarioContext,
  scenario: string,
  measure: (group: WorkerGroup, queue: string) => Promise<ScenarioOutcome>
): Promise<ScenarioOutcome> {
  const queue = queueName(scenario)
  await declareFreshQueue(context.url, queue, context.signal)
  const group = new WorkerGroup(context.signal)
  let outcome: ScenarioOutcome
  try {
    outcome = await measure(group, queue)
  } finally {
    await group.dispose()
    const cleanup = await deleteQueue(context.url, queue, new AbortController().signal).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err.message : String(err))
    )
    if (cleanup !== undefined) process.stderr.write(`${scenario}: ${cleanup}\n`)
  }
  return outcome
}

export interface PublishersDone {
  readonly results: readonly AmqpPublisherResult[]
  readonly sent: number
  readonly confirmed: number
  readonly nacked: number
  /** Confirmed messages/s, from the first publish to the last confirm across publishers. */
  readonly confirmRate: number
  readonly confirmLatencyMs: LatencySummary
}

/** `context.settings.publishers` confirm-channel publishers, started together, until each is done. */
export async function runAmqpPublishers(group: WorkerGroup, context: ScenarioContext, scenario: string, hardTimeoutMs: number): Promise<PublishersDone> {
  const { settings } = context
  const workers = Array.from({ length: settings.publishers }, (_, n) => {
    const config: AmqpPublisherConfig = {
      url: context.url,
      name: `wharf-bench-${scenario}-pub${n}-${context.runId}`,
      queue: queueName(scenario),
      publisherId: n,
      messages: settings.messages,
      durationMs: settings.durationS * 1000,
      inflight: settings.inflight,
      payloadBytes: settings.payloadBytes,
      hardTimeoutMs
    }
    return group.spawn(`publisher ${n}`, AMQP_PUBLISHER, config)
  })
  await Promise.all(workers.map(w => w.next('ready')))
  for (const worker of workers) worker.send({ type: 'start' })
  const results = (await Promise.all(workers.map(w => w.next('result')))).flatMap(m => (m.result.kind === 'amqp-publisher' ? [m.result] : []))
  await Promise.all(workers.map(w => w.stop()))
  const confirmed = sum(results, r => r.confirmed)
  return {
    results,
    sent: sum(results, r => r.sent),
    confirmed,
    nacked: sum(results, r => r.nacked),
    confirmRate: ratePerS(confirmed, Math.min(...results.map(r => r.startMs)), Math.max(...results.map(r => r.endMs))),
    confirmLatencyMs: summarizeLatencies(concatSamples(results.map(r => decodeSamples(r.confirmLatencies))))
  }
}

export interface ConsumersDone {
  readonly results: readonly AmqpConsumerResult[]
  readonly received: number
  readonly redelivered: number
  readonly unexpected: number
  readonly lost: number
  readonly duplicates: number
  /** Deliveries/s, from the first delivery to any consumer to the last to any. */
  readonly consumeRate: number
}

/**
 * `context.settings.consumers` consumers on the queue, started together; each runs until it
 * has everything that was sent or nothing arrives for 5 s. Receipts are merged, so a message
 * delivered to two consumers counts as a duplicate.
 */
export async function runAmqpConsumers(
  group: WorkerGroup,
  context: ScenarioContext,
  scenario: string,
  sentPerPublisher: readonly number[],
  hardTimeoutMs: number
): Promise<ConsumersDone> {
  const maxSeq = Math.max(1, ...sentPerPublisher)
  const workers = Array.from({ length: context.settings.consumers }, (_, n) => {
    const config: AmqpConsumerConfig = {
      url: context.url,
      name: `wharf-bench-${scenario}-consumer${n}-${context.runId}`,
      queue: queueName(scenario),
      prefetch: PREFETCH,
      publishers: sentPerPublisher.length,
      maxSeq,
      settleMs: CONSUMER_SETTLE_MS,
      hardTimeoutMs
    }
    return group.spawn(`consumer ${n}`, AMQP_CONSUMER, config)
  })
  await Promise.all(workers.map(w => w.next('ready')))
  for (const worker of workers) worker.send({ type: 'start' })
  for (const worker of workers) worker.send({ type: 'finish', sentPerPublisher })
  const results = (await Promise.all(workers.map(w => w.next('result')))).flatMap(m => (m.result.kind === 'amqp-consumer' ? [m.result] : []))
  await Promise.all(workers.map(w => w.stop()))
  const merged = ReceiptCounts.merge(results.map(r => ReceiptCounts.decode(sentPerPublisher.length, maxSeq, r.receipts)))
  const active = results.filter(r => r.received > 0)
  const received = sum(results, r => r.received)
  return {
    results,
    received,
    redelivered: sum(results, r => r.redelivered),
    unexpected: sum(results, r => r.unexpected),
    ...merged.check(sentPerPublisher),
    consumeRate: active.length === 0 ? 0 : ratePerS(received, Math.min(...active.map(r => r.firstMs)), Math.max(...active.map(r => r.lastMs)))
  }
}

export function msFigure(key: string, label: string, value: number, headline = false): Figure {
  return { key, label, value, unit: 'ms', better: 'lower', ...(headline ? { headline } : {}) }
}

export function countFigure(key: string, label: string, value: number, better: 'lower' | 'none' = 'none'): Figure {
  return { key, label, value, unit: 'count', better }
}

/**
 * A process's CPU µs per message (none when its CPU time was not readable): its own cost, apart
 * from what else loaded the machine's cores.
 */
export function cpuPerMessage(key: string, label: string, cpuMs: number | undefined, messages: number): Figure[] {
  return cpuMs === undefined || messages === 0 ? [] : [{ key, label, value: (cpuMs * 1000) / messages, unit: 'µs', better: 'lower' }]
}

/** Failures every confirm-channel publish run shares. */
export function publishFailures(done: Pick<PublishersDone, 'sent' | 'confirmed' | 'nacked'>, what: string): string[] {
  const failures: string[] = []
  if (done.nacked > 0) failures.push(`${what}: ${done.nacked} publishes nacked by the broker (or their channel closed)`)
  const unsettled = done.sent - done.confirmed - done.nacked
  if (unsettled > 0) failures.push(`${what}: ${unsettled} publishes never confirmed`)
  return failures
}
