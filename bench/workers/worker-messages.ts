/** IPC between the benchmark process and its load-generator workers. */

export type ParentMessage =
  | { readonly type: 'start' }
  /** Tells subscribers how many messages each publisher sent, so they know when they are done. */
  | { readonly type: 'finish'; readonly sentPerPublisher: readonly number[] }
  | { readonly type: 'stop' }

export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: WorkerResult }
  | { readonly type: 'error'; readonly message: string }

export type WorkerResult = PublisherResult | SubscriberResult | LatencyResult | AmqpPublisherResult | AmqpConsumerResult | AmqpE2eResult | LatencyReceiverResult

/** Times are CLOCK_MONOTONIC in ms (process.hrtime), which is one clock for all processes on the machine. */
export interface PublisherResult {
  readonly kind: 'publisher'
  readonly publisherId: number
  readonly sent: number
  /** PUBACKs received (QoS 1); equals sent for QoS 0. */
  readonly acked: number
  readonly startMs: number
  /** Last PUBACK (QoS 1) or last byte handed to the socket (QoS 0). */
  readonly endMs: number
}

export interface ClientCounts {
  readonly clientId: string
  readonly received: number
  readonly unique: number
  readonly duplicates: number
  /** Messages that were not from a known publisher or beyond its sequence range. */
  readonly unexpected: number
  readonly lost: number
  readonly firstMs: number
  readonly lastMs: number
}

export interface SubscriberResult {
  readonly kind: 'subscriber'
  readonly clients: readonly ClientCounts[]
}

/** What counts as a slow message in LatencyResult.slowBySecond: issue 9's p99 target. */
export const SLOW_MS = 1

export interface LatencyResult {
  readonly kind: 'latency'
  readonly sent: number
  readonly acked: number
  readonly counts: ClientCounts
  readonly sendStartMs: number
  readonly sendEndMs: number
  readonly latencyMs: LatencySummary
  /** The same over the second half of the measured messages (by send order): the run without its first seconds. */
  readonly laterHalfMs: LatencySummary
  /** Messages over SLOW_MS end to end, by the second of the measured run they were due to be sent in. */
  readonly slowBySecond: readonly number[]
}

export interface LatencySummary {
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

/** One AMQP publisher on a confirm channel. */
export interface AmqpPublisherResult {
  readonly kind: 'amqp-publisher'
  readonly publisherId: number
  readonly sent: number
  /** basic.ack from the broker (publisher confirms). */
  readonly confirmed: number
  /** basic.nack from the broker: the message was not accepted. */
  readonly nacked: number
  readonly startMs: number
  /** The last confirm. */
  readonly endMs: number
  /** Publish-to-confirm ms of every confirmed message (samples-transfer.ts encoding). */
  readonly confirmLatencies: string
}

/** One AMQP consumer: what it received, as counts per sequence number so consumers can be merged. */
export interface AmqpConsumerResult {
  readonly kind: 'amqp-consumer'
  readonly name: string
  readonly received: number
  /** Deliveries flagged redelivered by the broker. */
  readonly redelivered: number
  /** Messages not from a publisher of this run, or beyond its sequence range. */
  readonly unexpected: number
  readonly firstMs: number
  readonly lastMs: number
  /** ReceiptCounts.encode(): how often each sequence number of each publisher arrived. */
  readonly receipts: string
}

/** Publisher and consumer in one process at a fixed rate. */
export interface AmqpE2eResult {
  readonly kind: 'amqp-e2e'
  readonly sent: number
  readonly confirmed: number
  readonly nacked: number
  readonly received: number
  readonly duplicates: number
  readonly lost: number
  readonly redelivered: number
  readonly sendStartMs: number
  readonly sendEndMs: number
  readonly latencyMs: LatencySummary
  readonly confirmLatencyMs: LatencySummary
}

/**
 * A receiver in its own process (cross-protocol scenarios): what arrived so far, checked against
 * what the parent said was sent, and the end-to-end latency of the measured publisher's messages.
 */
export interface LatencyReceiverResult {
  readonly kind: 'latency-receiver'
  readonly name: string
  readonly received: number
  readonly lost: number
  readonly duplicates: number
  /** Messages not from a publisher of this run, or beyond its sequence range. */
  readonly unexpected: number
  /** AMQP deliveries flagged redelivered; MQTT deliveries with the DUP flag. */
  readonly redelivered: number
  readonly latencyMs: LatencySummary
}
