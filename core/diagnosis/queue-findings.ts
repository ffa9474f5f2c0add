// Why one queue lags, from its live state: each rule looks at one thing (consumers, their windows,
// redeliveries, cold reads, the trend) and names a cause with its numbers, or nothing.
import type { Queue, QueueConsumer } from '../model/queue.ts'
import { StreamQueue } from '../streams/stream-queue.ts'
import type { LagTrend } from './lag-sampler.ts'
import type { BridgeFacts } from './bridge-facts.ts'
import type { Finding } from './finding.ts'

export interface QueueFacts {
  readonly queue: Queue
  readonly backlog: number
  readonly trend: LagTrend | null
  /** diagnose.redeliveriesMin */
  readonly redeliveriesMin: number
  /** The bridge whose backlog this queue is (its forwarder is the consumer), or null. */
  readonly bridge: BridgeFacts | null
}

type Rule = (f: QueueFacts) => Finding | null

const noConsumer: Rule = ({ queue, backlog, trend }) => {
  if (queue.consumerCount > 0 || queue instanceof StreamQueue) return null
  return {
    cause: 'no-consumer',
    summary: `no consumer: ${backlog} messages ready${growing(trend)}`,
    suggestion: `start a consumer on '${queue.name}' (or bound it: x-message-ttl, x-max-length, or delete it if nothing will read it)`,
    numbers: { ready: backlog, growthPerSecond: rate(trend) }
  }
}

// Consumers that take nothing, each for one of two reasons: its window is full (slow acks), or it has
// room but no credit (its socket's send buffer is full, or flow is off). Both are named when every
// consumer takes nothing, each with how many it holds; one that still takes explains the lag alone.
const atWindow: Rule = ({ queue, backlog }) => {
  const consumers = queue.consumers
  if (consumers.length === 0 || (queue instanceof StreamQueue && backlog === 0) || !noneTakes(consumers)) return null
  const windows = consumers.map(c => windowOf(c)).filter(w => w.full)
  if (windows.length === 0) return null
  const unacked = windows.reduce((n, w) => n + w.unacked, 0)
  const max = windows.reduce((n, w) => n + w.max, 0)
  return {
    cause: 'consumers-at-prefetch',
    summary: `${share(windows.length, consumers.length)} consumers are at their prefetch / Receive Maximum (${unacked} of ${max} unacknowledged) while ${backlog} wait: acks are slow`,
    suggestion: 'acknowledge sooner (or in batches with multiple=true), raise the prefetch (basic.qos) / Receive Maximum, or add consumers',
    numbers: { consumers: windows.length, consumersTotal: consumers.length, unacked, windowMax: max, ready: backlog }
  }
}

const notReading: Rule = ({ queue, backlog }) => {
  const consumers = queue.consumers
  if (consumers.length === 0 || backlog === 0 || !noneTakes(consumers)) return null
  const stuck = consumers.filter(c => !windowOf(c).full)
  if (stuck.length === 0) return null
  return {
    cause: 'consumers-not-reading',
    summary: `${share(stuck.length, consumers.length)} consumers have room in their window but take nothing (their connections' send buffers are full, or flow is off) while ${backlog} wait`,
    suggestion: 'the consumers read their sockets too slowly or the network is slow: check the consumer hosts and the link',
    numbers: { consumers: stuck.length, consumersTotal: consumers.length, ready: backlog }
  }
}

function noneTakes(consumers: readonly QueueConsumer[]): boolean {
  return consumers.every(c => !c.hasCredit())
}

function share(some: number, all: number): string {
  return some === all ? `all ${all}` : `${some} of ${all}`
}

const redeliveryLoop: Rule = ({ queue, redeliveriesMin }) => {
  let looping = 0
  let most = 0
  for (const e of queue.redelivering) {
    if (e.deliveries < redeliveriesMin) continue
    looping++
    most = Math.max(most, e.deliveries)
  }
  if (looping === 0) return null
  return {
    cause: 'redelivery-loop',
    summary: `${looping} messages were delivered ${redeliveriesMin} times or more (up to ${most}): consumers requeue them (nack/reject with requeue) or die on them`,
    suggestion: `reject them without requeue so they are dead-lettered (set x-dead-letter-exchange on '${queue.name}'), and fix the consumer that cannot process them`,
    numbers: { messages: looping, deliveriesMax: most, redeliveriesMin }
  }
}

const coldReads: Rule = ({ queue, backlog }) => {
  if (!(queue instanceof StreamQueue)) return null
  const lags = queue.consumerLags()
  const waiting = lags.filter(c => c.coldReading).length
  if (waiting === 0) return null
  return {
    cause: 'cold-reads',
    summary: `${waiting} of ${lags.length} stream consumers are waiting on reads from the object store, up to ${backlog} records behind`,
    suggestion: "replays from old offsets read the cold tier: raise tiering.cacheBytesMax or tiering.localAgeSeconds, or check the object store's latency",
    numbers: { consumersWaiting: waiting, consumers: lags.length, lagMax: backlog }
  }
}

const outpaced: Rule = ({ queue, backlog, trend }) => {
  if (queue.consumerCount === 0 || trend === null || trend.growthPerSecond <= 0) return null
  return {
    cause: 'publishers-outpace-consumers',
    summary: `the backlog grows by ${trend.growthPerSecond.toFixed(1)} messages/s over ${trend.spanSeconds.toFixed(0)} s (${backlog} now) with ${queue.consumerCount} consumers taking what they can`,
    suggestion: 'consumers are slower than publishers: add consumers or make each faster',
    numbers: { growthPerSecond: trend.growthPerSecond, ready: backlog, consumers: queue.consumerCount }
  }
}

// A bridge's queue has one consumer, its forwarder, whose window is the link's: a full window there is
// a slow remote, no credit without a link is a link down (not slow acks or a congested socket).
const bridgeBehind: Rule = ({ bridge, backlog }) => {
  if (bridge === null || backlog === 0) return null
  const numbers = {
    bridge: bridge.name,
    state: bridge.state,
    lastError: bridge.lastError,
    ready: backlog,
    backlogBytes: bridge.backlogBytes,
    inflight: bridge.inflightMessages,
    windowMax: bridge.windowMax,
    confirmedPerSecond: bridge.confirmedPerSecond
  }
  if (bridge.state !== 'connected') {
    return {
      cause: 'bridge-link-down',
      summary: `bridge ${bridge.name} cannot forward: its link to ${bridge.url} is ${bridge.state}${bridge.lastError === null ? '' : ` (${bridge.lastError})`}; ${backlog} messages wait`,
      suggestion: `bring the remote ${bridge.url} back or fix the network to it: the backlog is kept and sent in order when the link is up`,
      numbers
    }
  }
  if (bridge.windowMax === 0 || bridge.inflightMessages < bridge.windowMax) return null
  return {
    cause: 'bridge-remote-slow',
    summary: `bridge ${bridge.name}'s window is full (${bridge.inflightMessages} of ${bridge.windowMax} sent, not confirmed) while ${backlog} wait: ${bridge.url} confirms ${bridge.confirmedPerSecond}/s`,
    suggestion: `the remote confirms slowly: check its load and the link's latency, or raise bridges[].inflightMessagesMax of '${bridge.name}'`,
    numbers
  }
}

/** In order: a later rule only speaks when the ones before it found nothing it explains. */
const rules: readonly Rule[] = [noConsumer, redeliveryLoop, atWindow, notReading, coldReads]
const bridgeRules: readonly Rule[] = [redeliveryLoop, bridgeBehind]

export function queueFindings(facts: QueueFacts): Finding[] {
  const found = (facts.bridge === null ? rules : bridgeRules).map(r => r(facts)).filter((f): f is Finding => f !== null)
  const explained = found.some(f => f.cause !== 'redelivery-loop')
  if (!explained) {
    const o = outpaced(facts)
    if (o !== null) found.push(o)
  }
  return found
}

function windowOf(c: QueueConsumer): { unacked: number; max: number; full: boolean } {
  const w = c.creditWindow?.() ?? { unacked: 0, max: 0 }
  return { ...w, full: w.max > 0 && w.unacked >= w.max }
}

function rate(trend: LagTrend | null): number | null {
  return trend === null ? null : Math.round(trend.growthPerSecond * 10) / 10
}

function growing(trend: LagTrend | null): string {
  return trend !== null && trend.growthPerSecond > 0 ? `, growing by ${trend.growthPerSecond.toFixed(1)}/s` : ''
}
