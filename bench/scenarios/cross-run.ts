import type { RatePhase } from '../workers/rate-phases.ts'
import { MEASURED_PUBLISHER_ID, WARMUP_PUBLISHER_ID } from '../workers/rate-phases.ts'
import type { LatencyReceiverResult, WorkerResult } from '../workers/worker-messages.ts'
import type { WorkerGroup } from '../workers/worker-process.ts'
import { countFigure, msFigure } from './amqp-run.ts'
import { ratePerS } from './pubsub-run.ts'
import type { Figure, ScenarioSettings } from './scenario.ts'

/**
 * Cross-protocol latency runs: one publisher process at a fixed rate speaking one protocol, one
 * receiver process speaking the other, through Wharf's one core (amq.topic). Shared by
 * cross-mqtt-amqp*.ts and cross-amqp-ws*.ts.
 */

/** --messages only caps the count; by default it is rate x duration. */
export const NO_MESSAGE_CAP = 100_000_000
/** One unmeasured second at the same rate first (at most 2,000 messages), as latency-qos1 and amqp-e2e. */
const WARMUP_S = 1
const WARMUP_MESSAGES_MAX = 2000
export const RECEIVER_SETTLE_MS = 5000
/** The cross-protocol topic: MQTT `bench/cross/x` is routing key `bench.cross.x` on amq.topic. */
export const CROSS_TOPIC = 'bench/cross/x'
export const CROSS_ROUTING_KEY = 'bench.cross.x'
export const CROSS_EXCHANGE = 'amq.topic'
export const WHARF_ONLY = 'Wharf only: Mosquitto speaks no AMQP, and the harness runs RabbitMQ without its MQTT plugins'

/** The p99 the issue asks for at one rate on this machine: shown as met or missed, never hidden. */
export interface LatencyTarget {
  readonly ratePerS: number
  readonly p99MsMax: number
}

export function messageCount(settings: ScenarioSettings): number {
  return Math.max(1, Math.min(settings.messages, Math.round(settings.ratePerS * settings.durationS)))
}

function warmupCount(settings: ScenarioSettings): number {
  return Math.min(WARMUP_MESSAGES_MAX, Math.round(settings.ratePerS * WARMUP_S))
}

/** The publish schedule plus the same again for a broker that falls behind it. */
function sendCapMs(messages: number, settings: ScenarioSettings): number {
  return 2 * (messages / settings.ratePerS) * 1000 + 10_000
}

/** Warm-up, then the measured messages; the receiver answers one round per phase. */
export function ratePhases(settings: ScenarioSettings): RatePhase[] {
  const warmup = warmupCount(settings)
  const measured = messageCount(settings)
  return [
    ...(warmup > 0 ? [{ publisherId: WARMUP_PUBLISHER_ID, messages: warmup, sendCapMs: sendCapMs(warmup, settings) }] : []),
    { publisherId: MEASURED_PUBLISHER_ID, messages: measured, sendCapMs: sendCapMs(measured, settings) }
  ]
}

/** The largest sequence number any phase uses, for the receiver's receipt table. */
export function maxSeq(settings: ScenarioSettings): number {
  return Math.max(messageCount(settings), warmupCount(settings))
}

export const PUBLISHER_IDS = 2

export function crossTimeoutMs(settings: ScenarioSettings): number {
  return 2 * sendCapMs(messageCount(settings), settings) + sendCapMs(warmupCount(settings), settings) + 45_000
}

export function describeCross(settings: ScenarioSettings, what: string): string {
  return (
    `${settings.ratePerS} msg/s for ${settings.durationS} s (${messageCount(settings)} ${what}) after ${WARMUP_S} s unmeasured, ` +
    `at most ${settings.inflight} unacknowledged, ${settings.payloadBytes}-byte payloads`
  )
}

export interface CrossResults {
  /** The measured phase's publisher result. */
  readonly published: WorkerResult
  readonly received: LatencyReceiverResult
}

/**
 * Receiver first (subscribed or consuming before anything is published), then the publisher;
 * each phase: start → the publisher's result → finish with what was sent so far → the receiver's.
 */
export async function runCrossPhases(
  group: WorkerGroup,
  receiverSpec: { readonly label: string; readonly file: URL; readonly config: unknown },
  publisherSpec: { readonly label: string; readonly file: URL; readonly config: unknown },
  phases: readonly RatePhase[]
): Promise<CrossResults> {
  const receiver = group.spawn(receiverSpec.label, receiverSpec.file, receiverSpec.config)
  await receiver.next('ready')
  const publisher = group.spawn(publisherSpec.label, publisherSpec.file, publisherSpec.config)
  await publisher.next('ready')
  const sentPerPublisher = Array.from({ length: PUBLISHER_IDS }, () => 0)
  let published: WorkerResult | undefined
  let received: WorkerResult | undefined
  for (const phase of phases) {
    publisher.send({ type: 'start' })
    published = (await publisher.next('result')).result
    sentPerPublisher[phase.publisherId] = published.kind === 'publisher' || published.kind === 'amqp-publisher' ? published.sent : 0
    receiver.send({ type: 'finish', sentPerPublisher: [...sentPerPublisher] })
    received = (await receiver.next('result')).result
  }
  await group.stopAll()
  if (published === undefined || received?.kind !== 'latency-receiver') throw new Error(`${receiverSpec.label} sent no latency result`)
  return { published, received }
}

/** Latency, rate and count figures every cross-protocol run shows, and its loss check. */
export function crossFigures(received: LatencyReceiverResult, sent: number, sendStartMs: number, sendEndMs: number): Figure[] {
  const { latencyMs } = received
  return [
    msFigure('p50', 'latency p50', latencyMs.p50, true),
    msFigure('p90', 'latency p90', latencyMs.p90),
    msFigure('p99', 'latency p99', latencyMs.p99, true),
    msFigure('max', 'latency max', latencyMs.max),
    msFigure('mean', 'latency mean', latencyMs.mean),
    { key: 'publishRate', label: 'achieved rate (msg/s)', value: ratePerS(sent, sendStartMs, sendEndMs), unit: 'msg/s', better: 'none' },
    countFigure('sent', 'sent', sent),
    countFigure('received', 'received (with warm-up)', received.received),
    countFigure('lost', 'lost', received.lost, 'lower'),
    countFigure('duplicates', 'duplicates', received.duplicates, 'lower'),
    countFigure('redelivered', 'redelivered', received.redelivered, 'lower')
  ]
}

/** The target, when the run is at its rate; notes are shown under the scenario's table. */
export function targetNotes(target: LatencyTarget, settings: ScenarioSettings, received: LatencyReceiverResult, sent: number): string[] {
  const notes: string[] = [WHARF_ONLY]
  if (received.unexpected > 0) notes.push(`${received.unexpected} messages not from this run's publisher (another publisher on the broker?)`)
  if (sent < messageCount(settings)) notes.push(`only ${sent} of ${messageCount(settings)} sent within the send cap`)
  if (settings.ratePerS === target.ratePerS) {
    const p99 = received.latencyMs.p99
    const verdict = p99 < target.p99MsMax ? 'met' : 'MISSED'
    notes.push(`target p99 < ${target.p99MsMax} ms at ${target.ratePerS} msg/s: ${verdict} (p99 ${p99.toFixed(3)} ms)`)
  }
  return notes
}
