/** IPC between the benchmark process and its load-generator workers. */

export type ParentMessage =
  | { readonly type: 'start' }
  /** Tells subscribers how many messages each publisher sent, so they know when they are done. */
  | { readonly type: 'finish'; readonly sentPerPublisher: readonly number[] }
  | { readonly type: 'stop' };

export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: WorkerResult }
  | { readonly type: 'error'; readonly message: string };

export type WorkerResult = PublisherResult | SubscriberResult | LatencyResult;

/** Times are CLOCK_MONOTONIC in ms (process.hrtime), which is one clock for all processes on the machine. */
export interface PublisherResult {
  readonly kind: 'publisher';
  readonly publisherId: number;
  readonly sent: number;
  /** PUBACKs received (QoS 1); equals sent for QoS 0. */
  readonly acked: number;
  readonly startMs: number;
  /** Last PUBACK (QoS 1) or last byte handed to the socket (QoS 0). */
  readonly endMs: number;
}

export interface ClientCounts {
  readonly clientId: string;
  readonly received: number;
  readonly unique: number;
  readonly duplicates: number;
  /** Messages that were not from a known publisher or beyond its sequence range. */
  readonly unexpected: number;
  readonly lost: number;
  readonly firstMs: number;
  readonly lastMs: number;
}

export interface SubscriberResult {
  readonly kind: 'subscriber';
  readonly clients: readonly ClientCounts[];
}

export interface LatencyResult {
  readonly kind: 'latency';
  readonly sent: number;
  readonly acked: number;
  readonly counts: ClientCounts;
  readonly sendStartMs: number;
  readonly sendEndMs: number;
  readonly latencyMs: LatencySummary;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}
