// A bridge's connection to its remote, whatever the protocol: it sends messages up and resolves each
// send once the remote confirmed it, hands what the remote delivers for the `in` topics to the
// bridge, and says once when it is gone. One implementation per remote kind (amqp-link.ts,
// mqtt-link.ts); the bridge (bridge.ts) owns reconnecting, ordering and the backlog.
import type { BridgeConfig } from '../../../edge-config/config-types.ts'
import type { Logger } from '../../../core/logger.ts'
import type { Message } from '../../../core/model/message.ts'
import type { MessageRefusal } from './message-refusal.ts'
import type { DownlinkGate } from '../downlink-gate.ts'
import type { DownlinkReceipts } from '../downlink-receipts.ts'
import type { UplinkPacketIds } from './mqtt-uplink-ids.ts'
import type { RefusedTopics } from '../refused-topics.ts'

/** A message the remote delivered for an `in` topic. */
export interface Downlinked {
  /** Its topic at the remote, in MQTT form ('/' between levels). */
  readonly topic: string
  /** x-wharf-via (loop-marks.ts). */
  readonly via: readonly string[]
  /** The core message to publish locally under localTopic, properties as the remote gave them plus `marks` (headers). */
  toMessage(localTopic: string, exchange: string, nowMs: number, marks: Record<string, string>): Message
  /**
   * The link's own record that it took this message (MQTT QoS 2: its packet id until PUBREL), to be
   * started by the handler right after it published the message, in the same turn, so that both
   * commit in one transaction; not started for a message dropped on purpose.
   */
  readonly receipt?: () => Promise<void>
}

/**
 * Takes a downlinked message; resolves once the remote may forget it (published and committed
 * locally, or dropped on purpose). A rejection leaves it unacknowledged: the remote sends it again.
 */
export type DownlinkHandler = (m: Downlinked) => Promise<void>

/** Where a message sent up sits in the bridge's queue: an MQTT link's packet id is named by seq (mqtt-uplink-ids.ts). */
export interface QueuePlace {
  readonly seq: number
  /** It may have been sent before (requeued after a lost link, or possibly sent before a restart): DUP. */
  readonly redelivered: boolean
}

export interface RemoteLink {
  /** The remote's Wharf node id when it is a Wharf that tells it; null otherwise. */
  readonly remoteNodeId: string | null
  /** Sends that may wait for their confirm at once: the bridge's window, or less if the remote says so. */
  readonly windowMax: number
  /** What the link does differently because of the remote's limits, one line each (e.g. a lower Maximum QoS). */
  readonly remoteLimits: readonly string[]
  /**
   * The `in` topics the remote refused (SUBACK 0x80 and up, an AMQP queue.bind or queue.declare
   * refused), one line each naming the topic and the remote's reason. The link serves the uplink
   * and the other `in` topics all the same; the next link asks again.
   */
  readonly inRefused: readonly string[]
  /**
   * Sends one message up under topic (MQTT form, already mapped), with this node's loop marks
   * (loop-marks.ts upHeaders with LinkOptions.nodeId). Resolves when the remote confirmed it;
   * rejects when it refused it or the link failed first.
   */
  send(topic: string, message: Message, nowMs: number, place: QueuePlace): Promise<void>
  /**
   * Why this message can never go to this remote (an MQTT remote's Maximum Packet Size), or null.
   * Asked before each send: send does not check it again, and a message refused here was never sent.
   */
  unsendable?(topic: string, message: Message, nowMs: number): MessageRefusal | null
  /** Settles once, with why the link ended (close() included). */
  readonly closed: Promise<Error>
  /** Ends the link; sends not confirmed yet reject. */
  close(): Promise<void>
}

export interface LinkOptions {
  readonly bridge: BridgeConfig
  /** This node's id (the loop marks of what goes up, default remote names). */
  readonly nodeId: string
  /** null: the bridge has no `in` topics. */
  readonly downlink: DownlinkHandler | null
  /** Closed while the local store is over its disk watermark: the downlink takes nothing then. */
  readonly downlinkGate: DownlinkGate
  /** The bridge's QoS 2 packet ids taken and not yet released by an MQTT remote (kept across links and restarts). */
  readonly receipts: DownlinkReceipts
  /** The packet ids of the uplink's PUBLISHes to an MQTT remote, and its exchanges not over (kept across links). */
  readonly uplinkIds: UplinkPacketIds
  /**
   * The remote confirmed a message to `topic` and routed it to no one (AMQP basic.return of the
   * uplink's mandatory publish, MQTT 5 PUBACK/PUBREC 0x10): it is dropped there. `reason`: the remote's words.
   */
  readonly onUnrouted: (topic: string, reason: string) => void
  /** MQTT `in` topics whose SUBSCRIBE the remote answered by closing the connection lately (skipped for now). */
  readonly inClosedAt: RefusedTopics
  readonly logger: Logger
}

export type LinkFactory = (opts: LinkOptions) => Promise<RemoteLink>

/**
 * The remote cannot serve the bridge as configured (not a remote that is away): the bridge shows
 * state error with this message, and tries again with its backoff in case the remote changes.
 */
export class RemoteMismatch extends Error {
  override readonly name = 'RemoteMismatch'
}

/** The bridge's own setup cannot work (a TLS file it cannot read): state error, not a remote that is away. */
export class LinkSetupError extends Error {
  override readonly name = 'LinkSetupError'
}

/** Settles `closed` once and rejects every pending send with the reason. */
export class PendingSends {
  private readonly pending = new Set<{ reject: (err: Error) => void }>()
  private failure: Error | null = null
  private resolveClosed!: (err: Error) => void
  readonly closed = new Promise<Error>(resolve => {
    this.resolveClosed = resolve
  })

  get failed(): boolean {
    return this.failure !== null
  }

  /** A send: starts it with settle callbacks, or rejects at once when the link is already gone. */
  track(start: (resolve: () => void, reject: (err: Error) => void) => void): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure)
    return new Promise<void>((resolve, reject) => {
      const entry = { reject }
      this.pending.add(entry)
      const done = (err?: Error): void => {
        if (!this.pending.delete(entry)) return
        if (err === undefined) resolve()
        else reject(err)
      }
      try {
        start(
          () => done(),
          err => done(err)
        )
      } catch (err) {
        done(err as Error)
      }
    })
  }

  fail(err: Error): void {
    if (this.failure !== null) return
    this.failure = err
    for (const p of [...this.pending]) p.reject(err)
    this.pending.clear()
    this.resolveClosed(err)
  }
}

/** Default remote names carry the node id: two edges with a bridge of the same name never share one. */
export function defaultRemoteName(prefix: string, nodeId: string, bridgeName: string, sep: string): string {
  return `${prefix}${sep}${nodeId}${sep}${bridgeName}`
}
