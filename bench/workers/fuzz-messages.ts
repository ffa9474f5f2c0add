import type { ChildMessage } from './worker-messages.ts'

/**
 * Results of the fuzz-connections worker, sent as the `result` of the usual worker protocol (as the
 * idle-connections results are) and taken back through the kind check below.
 */

/** The malformed or stalled connections the fuzzer opens, each a protocol violation or a stalled handshake. */
export const FUZZ_KINDS = ['half-connect', 'garbage', 'oversize-length', 'stalled-mid-packet', 'bad-packet-after-connect'] as const
export type FuzzKind = (typeof FUZZ_KINDS)[number]

export interface FuzzKindCounts {
  readonly opened: number
  /** The TCP connection itself failed (refused, reset before it was up). */
  readonly refusedAtConnect: number
  /** Closed by the broker within 10 s of the violation (the last byte the fuzzer wrote). */
  readonly closedWithin10s: number
  /** Closed by the broker later than that, within the watch. */
  readonly closedLater: number
  /** Still open when the watch ended; the fuzzer closed it. */
  readonly openAtWatchEnd: number
  /** Violation to close by the broker, nearest-rank, ms (closed ones only). */
  readonly closeMsP50: number
  readonly closeMsP99: number
  readonly closeMsMax: number
}

export interface FuzzResult {
  readonly kind: 'fuzz'
  readonly seed: number
  readonly connections: number
  readonly watchMs: number
  readonly byKind: Readonly<Record<FuzzKind, FuzzKindCounts>>
  /** First connect to the last connection settled (CLOCK_MONOTONIC ms). */
  readonly startMs: number
  readonly endMs: number
  /** Most fuzz connections open at once. */
  readonly peakOpen: number
}

export function fuzzResultOf(message: Extract<ChildMessage, { type: 'result' }>): FuzzResult {
  const result = message.result as unknown as { kind?: string }
  if (result.kind !== 'fuzz') throw new Error(`fuzz-connections: expected a fuzz result, got ${String(result.kind)}`)
  return result as unknown as FuzzResult
}
