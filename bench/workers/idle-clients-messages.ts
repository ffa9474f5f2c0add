import type { ChildMessage } from './worker-messages.ts'

/**
 * Results of the idle-connections worker. As the stream-replay results, they travel as the `result`
 * of the usual worker protocol (worker-messages.ts) without joining its WorkerResult union, and the
 * parent takes them back through the kind checks below.
 */
export interface IdleConnectResult {
  readonly kind: 'idle-connect'
  /** Connected and subscribed (CONNACK and SUBACK as expected). */
  readonly connected: number
  readonly failed: number
  /** How many handshakes failed for each reason (`closed before CONNACK`, `socket error ECONNRESET`, ...). */
  readonly failureReasons: Readonly<Record<string, number>>
  /** Not attempted: the connect deadline passed first. */
  readonly notAttempted: number
  /** First CONNECT to the last SUBACK (CLOCK_MONOTONIC ms). */
  readonly startMs: number
  readonly endMs: number
}

export interface IdleProbeResult {
  readonly kind: 'idle-probe'
  /** Probe messages published at QoS 1, one to each probed client's topic. */
  readonly sent: number
  readonly acked: number
  /** Probed clients that received their message, topic and payload intact. */
  readonly delivered: number
  /** Packets that reached a client other than the one probed on its topic, or did not match. */
  readonly unexpected: number
  /** Clients still open when the probe ended. */
  readonly stillOpen: number
  /** Clients the broker closed after their handshake. */
  readonly closedByBroker: number
  /** PUBLISH to the last delivery or PUBACK (ms). */
  readonly elapsedMs: number
}

export type IdleClientsResult = IdleConnectResult | IdleProbeResult

/** What the worker hands to process.send. */
export function idleResultMessage(result: IdleClientsResult): ChildMessage {
  return { type: 'result', result } as unknown as ChildMessage
}

function resultOf<K extends IdleClientsResult['kind']>(message: ChildMessage, kind: K): Extract<IdleClientsResult, { kind: K }> {
  const result: unknown = message.type === 'result' ? message.result : undefined
  if (typeof result !== 'object' || result === null || (result as { kind?: unknown }).kind !== kind) {
    throw new Error(`idle clients worker: expected a ${kind} result, got ${JSON.stringify(message).slice(0, 200)}`)
  }
  return result as Extract<IdleClientsResult, { kind: K }>
}

export const connectResultOf = (message: ChildMessage): IdleConnectResult => resultOf(message, 'idle-connect')
export const probeResultOf = (message: ChildMessage): IdleProbeResult => resultOf(message, 'idle-probe')
