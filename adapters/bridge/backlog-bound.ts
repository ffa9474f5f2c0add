// A bridge's backlog bound (backlogBytesMax, the bodies of the messages its queue holds, in flight
// included) and what happens at it (backlogPolicy):
//   block (default): publishers are throttled as by the disk watermark (AMQP connection.blocked,
//     MQTT QoS 1/2 publishes refused) until the backlog is back under 90% of the bound; nothing dropped.
//   drop-oldest: the oldest messages not in flight are dropped until the newest fits; counted, and
//     logged at most once per interval.
import type { Counter } from '../../core/metrics.ts'
import type { ClassicQueue } from '../../core/model/classic-queue.ts'
import type { BridgeBacklogPolicy } from '../../edge-config/config-types.ts'
import { formatBytes } from '../../core/storage/format-bytes.ts'

/** Publishers go again below this fraction of the bound (as the disk watermark's). */
const RESUME_FRACTION = 0.9

export interface BacklogBoundOptions {
  readonly bridgeName: string
  readonly backlogBytesMax: number
  readonly policy: BridgeBacklogPolicy
  /** Bytes in flight (handed to the forwarder, not confirmed): not in the queue's ready bytes. */
  readonly inflightBytes: () => number
  /** block: the reason publishers are throttled, or null when that clears. */
  readonly onBlock: (reason: string | null) => void
  readonly dropped: Counter
  /** drop-oldest: told of each drop (the bridge logs them, rate limited). */
  readonly onDrop: () => void
}

export class BacklogBound {
  private blocked = false

  constructor(
    private queue: ClassicQueue,
    private readonly opts: BacklogBoundOptions
  ) {}

  get bytes(): number {
    return this.queue.messageBytes + this.opts.inflightBytes()
  }

  get blocking(): boolean {
    return this.blocked
  }

  rebind(queue: ClassicQueue): void {
    this.queue = queue
  }

  /** After the backlog grew (a publish) or shrank (a confirm, a drop, an expiry). */
  check(): void {
    const max = this.opts.backlogBytesMax
    if (max === 0) return
    if (this.opts.policy === 'drop-oldest') {
      while (this.bytes > max && this.queue.dropHead() !== undefined) {
        this.opts.dropped.inc()
        this.opts.onDrop()
      }
      return
    }
    const bytes = this.bytes
    if (!this.blocked && bytes > max) {
      this.blocked = true
      this.opts.onBlock(`bridge ${this.opts.bridgeName}: backlog ${formatBytes(bytes)} over bridges[].backlogBytesMax ${formatBytes(max)}`)
    } else if (this.blocked && bytes <= max * RESUME_FRACTION) {
      this.blocked = false
      this.opts.onBlock(null)
    }
  }

  /** The bridge stops: it holds publishers no more. */
  release(): void {
    if (!this.blocked) return
    this.blocked = false
    this.opts.onBlock(null)
  }
}
