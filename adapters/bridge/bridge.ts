// One bridge (DESIGN §8): its queue and forwarder (uplink), its downlink, and the link between them
// and the remote, reconnected with exponential backoff and jitter for as long as the bridge runs.
import type { Clock, TimerHandle } from '../../core/clock.ts'
import type { Logger } from '../../core/logger.ts'
import type { ClassicQueue } from '../../core/model/classic-queue.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import type { BridgeConfig } from '../../edge-config/config-types.ts'
import { redactUrl } from '../../edge-config/bridge-checks.ts'
import { RateLimitedLog } from '../../core/rate-limited-log.ts'
import { routingKeyToTopic, topicNameProblem } from '../mqtt/topic-grammar.ts'
import { BacklogBound } from './backlog-bound.ts'
import { Backoff } from './backoff.ts'
import type { BridgeCounters } from './bridge-metrics.ts'
import { BRIDGE_OWNER, bridgeQueueName, declareBridgeQueue } from './bridge-queue.ts'
import { RateSampler, type BridgeState, type BridgeStatus } from './bridge-status.ts'
import { DeadLetters, deadLetterQueueName } from './dead-letters.ts'
import { DownlinkGate } from './downlink-gate.ts'
import { DownlinkReceipts } from './downlink-receipts.ts'
import { Forwarder } from './forwarder.ts'
import { UplinkPacketIds } from './links/mqtt-uplink-ids.ts'
import { LinkSetupError, RemoteMismatch, type DownlinkHandler, type LinkFactory, type RemoteLink } from './links/link.ts'
import { amqpBodyLimitIn, amqpRefusedRoutingKeyIn } from './links/message-refusal.ts'
import { CAME_DOWN_HEADER, isOwnEcho } from './loop-marks.ts'
import { RefusedTopics } from './refused-topics.ts'
import { TokenBucket } from './token-bucket.ts'
import { inboundTopic } from './topic-mapping.ts'

export interface BridgeDeps {
  readonly vhost: Vhost
  /** The MQTT exchange: the out filters bind on it, downlinked messages are published to it. */
  readonly exchange: string
  readonly nodeId: string
  readonly clock: Clock
  readonly logger: Logger
  readonly counters: BridgeCounters
  readonly link: LinkFactory
  readonly remote: 'amqp' | 'mqtt'
  /** The backlog bound (policy block) throttles publishers (reason) or lets them go (null). */
  readonly onBlock: (reason: string | null) => void
  /** Closed by the disk watermark: the downlink stops taking from the remote (default: always open). */
  readonly downlinkGate?: DownlinkGate
  /** QoS 2 packet ids taken from an MQTT remote and not yet released (default: in memory only). */
  readonly receipts?: DownlinkReceipts
  readonly random?: () => number
}

const SAMPLE_INTERVAL_MS = 1000

export class Bridge {
  state: BridgeState = 'connecting'
  private lastError: { message: string; atMs: number } | null = null
  private connectedSinceMs: number | null = null
  private link: RemoteLink | null = null
  /** Why the bridge ended the current link itself (a refusal), reported instead of the close. */
  private endReason: Error | null = null
  private stopped = false
  private connecting = false
  private running: Promise<void> = Promise.resolve()
  private wake: { timer: TimerHandle; resolve: () => void } | null = null
  private sampleTimer: TimerHandle | null = null
  private lastStatusLogMs = 0
  private lastLogged = ''
  private readonly log: Logger
  private readonly warnOnce: RateLimitedLog
  private readonly backoff: Backoff
  private readonly rates = new RateSampler()
  private readonly forwarder: Forwarder
  private readonly bound: BacklogBound
  private readonly deadLetters: DeadLetters
  private readonly downlinkGate: DownlinkGate
  private readonly receipts: DownlinkReceipts
  private readonly uplinkIds = new UplinkPacketIds()
  /** The largest body the remote takes, learned from its refusal of a larger one (0: not known). */
  private remoteBodyBytesMax = 0
  /** Remote topics the remote refused by permission lately. */
  private readonly refusedTopics: RefusedTopics
  /** `in` topics whose SUBSCRIBE the remote answered by closing the connection lately. */
  private readonly inClosedAt: RefusedTopics

  private constructor(
    readonly config: BridgeConfig,
    private queue: ClassicQueue,
    private readonly deps: BridgeDeps
  ) {
    this.log = deps.logger.child({ component: 'bridge', bridge: config.name })
    this.warnOnce = new RateLimitedLog(this.log, config.logIntervalSeconds * 1000, deps.clock)
    this.backoff = new Backoff(config.reconnectInitialMs, config.reconnectMaxMs, deps.random)
    this.deadLetters = new DeadLetters(deps.vhost, config.name)
    this.downlinkGate = deps.downlinkGate ?? new DownlinkGate()
    this.receipts = deps.receipts ?? new DownlinkReceipts(null, config.name)
    this.refusedTopics = new RefusedTopics(config.reconnectMaxMs, deps.clock)
    this.inClosedAt = new RefusedTopics(config.reconnectMaxMs, deps.clock)
    const bucket = config.uplinkMessagesPerSecondMax > 0 ? new TokenBucket(config.uplinkMessagesPerSecondMax, deps.clock) : null
    this.forwarder = new Forwarder(queue, {
      bridgeName: config.name,
      out: config.out,
      hopsMax: config.hopsMax,
      clock: deps.clock,
      bucket,
      counters: deps.counters,
      reserveDelivered: (queue, seq) => deps.vhost.reserveDelivered(queue, seq),
      onSettled: () => this.bound.check(),
      onConfirmed: () => this.backoff.reset(),
      onRefused: (link, err) => this.endLink(link, err),
      remoteBodyBytesMax: () => this.remoteBodyBytesMax,
      refusedTopic: topic => this.refusedTopics.reason(topic),
      deadLetter: (entry, reason) => this.deadLetters.put(entry, this.queue, reason, deps.clock.nowMs()),
      onDeadLettered: (entry, reason) =>
        this.warnOnce.warn('bridge: message not sent up (refused by the remote for good, or over hopsMax), moved to the dead-letter queue', {
          deadLetterQueue: deadLetterQueueName(config.name),
          topic: entry.message.routingKey,
          reason,
          deadLettered: deps.counters.deadLettered.value
        })
    })
    this.forwarder.onQueueGone = () => {
      void this.queueGone()
    }
    this.bound = new BacklogBound(queue, {
      bridgeName: config.name,
      backlogBytesMax: config.backlogBytesMax,
      policy: config.backlogPolicy,
      inflightBytes: () => this.forwarder.inflightBytes,
      onBlock: deps.onBlock,
      dropped: deps.counters.dropped,
      onDrop: () =>
        this.warnOnce.warn('backlog full: oldest message dropped (backlogPolicy drop-oldest)', {
          backlogBytesMax: config.backlogBytesMax,
          dropped: deps.counters.dropped.value
        })
    })
  }

  /** Declares the queue, consumes it, and starts connecting (in the background). */
  static async start(config: BridgeConfig, deps: BridgeDeps): Promise<Bridge> {
    const queue = await declareBridgeQueue(deps.vhost, deps.exchange, config.name, config.out.topics)
    const bridge = new Bridge(config, queue, deps)
    bridge.attachQueue(queue)
    // Counted over the whole backlog: a queue that pages read back only its head.
    const possiblySent = queue.possiblyDeliveredAtStart()
    bridge.log.info('bridge started', {
      url: redactUrl(config.url),
      queue: queue.name,
      backlogMessages: queue.messageCount,
      backlogBytes: queue.messageBytes,
      possiblySentBefore: possiblySent
    })
    bridge.bound.check()
    bridge.sampleTimer = deps.clock.setTimer(() => bridge.sample(), SAMPLE_INTERVAL_MS)
    bridge.running = bridge.run()
    return bridge
  }

  /** Stops: the link closes, what it did not confirm stays in the queue for the next start. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.state = 'stopped'
    if (this.sampleTimer !== null) this.deps.clock.clearTimer(this.sampleTimer)
    this.wakeUp()
    await this.link?.close()
    // A connection attempt under way is not waited for (it can take connectTimeoutMs): run() closes
    // what it brings, and the downlink takes nothing once stopped.
    if (!this.connecting) await this.running
    if (!this.queue.deleted) this.deps.vhost.cancel(this.queue, this.forwarder)
    this.queue.acceptObserver = null
    this.bound.release()
    this.warnOnce.close()
    this.log.info('bridge stopped', { backlogMessages: this.queue.messageCount })
  }

  status(): BridgeStatus {
    const c = this.deps.counters
    const now = this.deps.clock.nowMs()
    const oldest = this.forwarder.oldestInflight() ?? this.queue.ready.peek()
    const [forwardedPerSecond = 0, confirmedPerSecond = 0, downlinkedPerSecond = 0] = this.rates.rates
    return {
      name: this.config.name,
      url: String(redactUrl(this.config.url)),
      remote: this.deps.remote,
      state: this.state,
      lastError: this.lastError?.message ?? null,
      lastErrorAtMs: this.lastError?.atMs ?? null,
      connectedSinceMs: this.connectedSinceMs,
      remoteNodeId: this.link?.remoteNodeId ?? null,
      remoteLimits: this.link?.remoteLimits ?? [],
      refusedTopics: this.refusedTopics.topics(),
      inRefused: this.link?.inRefused ?? [],
      queue: this.queue.name,
      vhost: this.queue.vhost,
      backlog: {
        messages: this.queue.messageCount + this.forwarder.inflight.size,
        bytes: this.bound.bytes,
        inflightMessages: this.forwarder.inflight.size,
        windowMax: this.forwarder.windowMax,
        oldestMessageAgeMs: oldest === undefined ? null : Math.max(0, now - oldest.message.publishedAtMs),
        bytesMax: this.config.backlogBytesMax,
        policy: this.config.backlogPolicy,
        blockingPublishers: this.bound.blocking
      },
      forwarded: c.forwarded.value,
      confirmed: c.confirmed.value,
      redelivered: c.redelivered.value,
      loopsSkipped: c.loopsSkipped.value,
      deadLettered: c.deadLettered.value,
      deadLetterQueue: deadLetterQueueName(this.config.name),
      dropped: c.dropped.value,
      downlinked: c.downlinked.value,
      downlinkPausedBy: this.downlinkGate.reason,
      echoesDropped: c.echoesDropped.value,
      downlinkRefused: c.downlinkRefused.value,
      unroutedAtRemote: c.unrouted.value,
      reconnects: c.reconnects.value,
      forwardedPerSecond,
      confirmedPerSecond,
      downlinkedPerSecond
    }
  }

  // ---- the link ---------------------------------------------------------------------------------

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.state = 'connecting'
      let link: RemoteLink
      this.connecting = true
      try {
        link = await this.deps.link({
          bridge: this.config,
          nodeId: this.deps.nodeId,
          downlink: this.config.in.topics.length > 0 ? this.downlink : null,
          downlinkGate: this.downlinkGate,
          receipts: this.receipts,
          uplinkIds: this.uplinkIds,
          onUnrouted: this.unrouted,
          inClosedAt: this.inClosedAt,
          logger: this.log
        })
      } catch (err) {
        await this.failed(err as Error, 'connect')
        continue
      } finally {
        this.connecting = false
      }
      if (this.stopped) {
        await link.close()
        return
      }
      await this.serve(link)
    }
  }

  /** Forwards over the link until it ends, then backs off before the next attempt. */
  private async serve(link: RemoteLink): Promise<void> {
    this.link = link
    this.state = 'connected'
    const since = this.deps.clock.nowMs()
    this.connectedSinceMs = since
    this.log.info('bridge connected', { remoteNodeId: link.remoteNodeId, window: link.windowMax, backlogMessages: this.queue.messageCount })
    // Once per connect, not per message: what the remote's limits change in what goes up.
    if (link.remoteLimits.length > 0) this.log.warn('bridge: the remote limits what goes up', { remoteLimits: link.remoteLimits })
    if (link.inRefused.length > 0) {
      // The uplink and the other `in` topics go on; the refused ones are asked for at the next connect.
      this.lastError = { message: `subscribe: ${link.inRefused.join('; ')}`, atMs: since }
      this.log.warn('bridge: the remote refused in topics; commands on them do not come down', { inRefused: link.inRefused })
    }
    this.forwarder.attach(link)
    const closed = await link.closed
    const why = this.endReason ?? closed
    this.endReason = null
    const bodyLimit = amqpBodyLimitIn(why.message)
    if (bodyLimit !== null && bodyLimit !== this.remoteBodyBytesMax) {
      // The next link dead-letters what is larger instead of sending it again.
      this.remoteBodyBytesMax = bodyLimit
      this.log.warn('bridge: the remote refused a message over its max size; larger ones will be dead-lettered', { remoteBodyBytesMax: bodyLimit })
    }
    const refusedKey = amqpRefusedRoutingKeyIn(why.message)
    const refused = refusedKey === null ? null : { remoteTopic: routingKeyToTopic(refusedKey), reason: `the remote refused its topic: ${why.message}` }
    if (refused !== null && this.refusedTopics.add(refused.remoteTopic, refused.reason))
      this.log.warn('bridge: the remote refuses a topic (permission); its messages are dead-lettered, the topic tried again after reconnectMaxMs', {
        topic: refused.remoteTopic,
        reconnectMaxMs: this.config.reconnectMaxMs,
        reason: why.message
      })
    // Those messages are dead-lettered; the others go again on the next link, which need not wait.
    if (this.forwarder.detach(refused) > 0) this.backoff.reset()
    this.link = null
    this.connectedSinceMs = null
    this.bound.check()
    if (this.stopped) return
    // A link that held longer than the longest delay was no failed attempt: start from the first delay.
    if (this.deps.clock.nowMs() - since >= this.config.reconnectMaxMs) this.backoff.reset()
    await this.failed(why, 'link lost')
  }

  private async failed(err: Error, what: string): Promise<void> {
    if (this.stopped) return
    this.deps.counters.reconnects.inc()
    const message = `${what}: ${err.message}`
    this.lastError = { message, atMs: this.deps.clock.nowMs() }
    // A refusal of one message (its size, its topic) ended the link: it is dead-lettered, the rest go on.
    const oneMessage = amqpBodyLimitIn(err.message) !== null || amqpRefusedRoutingKeyIn(err.message) !== null
    this.state = isTransient(err) || oneMessage ? 'backing-off' : 'error'
    const delayMs = this.backoff.nextDelayMs()
    const fields = { error: message, state: this.state, retryInMs: delayMs, backlogMessages: this.queue.messageCount + this.forwarder.inflight.size }
    // The first failure of a series and a remote that refuses us (state error) at warn, one line per
    // logIntervalSeconds at most and then the count held back, as every repeated warning (DESIGN §6);
    // the retries of a remote that stays away at debug.
    if (this.backoff.failures <= 1 || this.state === 'error') this.warnOnce.warn('bridge link failed, retrying', fields)
    else this.log.debug('bridge link failed, retrying', fields)
    await new Promise<void>(resolve => {
      this.wake = {
        timer: this.deps.clock.setTimer(() => {
          this.wake = null
          resolve()
        }, delayMs),
        resolve
      }
    })
  }

  private wakeUp(): void {
    const w = this.wake
    if (w === null) return
    this.wake = null
    this.deps.clock.clearTimer(w.timer)
    w.resolve()
  }

  private endLink(link: RemoteLink, err: Error): void {
    if (this.link !== link || this.endReason !== null) return
    this.endReason = err
    void link.close()
  }

  /** Confirmed, so deleted here, but dropped at the remote: counted and logged, as a drop here would be. */
  private readonly unrouted = (topic: string, reason: string): void => {
    this.deps.counters.unrouted.inc()
    this.warnOnce.warn('bridge: the remote routed a message to no one (no queue bound, no subscriber); it confirmed it and dropped it', {
      topic,
      reason,
      unroutedAtRemote: this.deps.counters.unrouted.value
    })
  }

  // ---- the downlink -----------------------------------------------------------------------------

  private readonly downlink: DownlinkHandler = async d => {
    if (this.stopped) throw new Error('bridge stopping')
    if (isOwnEcho(d.via, this.deps.nodeId)) {
      this.deps.counters.echoesDropped.inc()
      return
    }
    const topic = inboundTopic(d.topic, this.config.in)
    const problem = topicNameProblem(topic)
    let stored: Promise<unknown> | undefined
    try {
      if (problem !== null) throw new Error(`topic '${topic}': ${problem}`)
      const message = d.toMessage(topic, this.deps.exchange, this.deps.clock.nowMs(), { [CAME_DOWN_HEADER]: this.config.name })
      message.publisher = this
      stored = this.deps.vhost.publish(this.deps.exchange, message).stored
      // Written after the message in this turn: one commit, and were they ever split, the message first.
      const receipt = d.receipt?.()
      if (receipt !== undefined) stored = stored === undefined ? receipt : Promise.all([stored, receipt])
    } catch (err) {
      // Acknowledged and dropped: sent again, it would be refused again and hold up all that follows.
      this.deps.counters.downlinkRefused.inc()
      this.warnOnce.warn('bridge: message from the remote dropped', { topic: d.topic, error: (err as Error).message })
      return
    }
    this.deps.counters.downlinked.inc()
    await stored
  }

  // ---- the queue --------------------------------------------------------------------------------

  private attachQueue(queue: ClassicQueue): void {
    // Its seqs start again (a queue declared anew): they name other messages than the open exchanges'.
    if (this.queue !== queue) this.uplinkIds.queueReplaced()
    this.queue = queue
    this.forwarder.rebind(queue)
    this.bound.rebind(queue)
    queue.acceptObserver = this.config.backlogBytesMax > 0 ? () => this.bound.check() : null
    this.deps.vhost.consume(queue.name, this.forwarder, BRIDGE_OWNER)
    if (this.link !== null) this.forwarder.attach(this.link)
  }

  /** An operator deleted the queue (and its backlog): declared again, so the bridge goes on. */
  private async queueGone(): Promise<void> {
    if (this.stopped) return
    this.log.warn('bridge queue deleted from outside; declaring it again', { queue: bridgeQueueName(this.config.name) })
    try {
      this.attachQueue(await declareBridgeQueue(this.deps.vhost, this.deps.exchange, this.config.name, this.config.out.topics))
    } catch (err) {
      this.lastError = { message: `declare queue: ${(err as Error).message}`, atMs: this.deps.clock.nowMs() }
      this.state = 'error'
    }
  }

  // ---- figures ----------------------------------------------------------------------------------

  private sample(): void {
    const now = this.deps.clock.nowMs()
    const c = this.deps.counters
    this.rates.sample(now, [c.forwarded.value, c.confirmed.value, c.downlinked.value])
    this.bound.check() // the backlog also shrinks by expiry
    if (now - this.lastStatusLogMs >= this.config.logIntervalSeconds * 1000) {
      this.lastStatusLogMs = now
      const s = this.status()
      const line = JSON.stringify([s.state, s.backlog.messages, s.forwarded, s.confirmed, s.downlinked, s.dropped, s.deadLettered])
      if (line !== this.lastLogged) {
        this.lastLogged = line
        this.log.info('bridge status', {
          state: s.state,
          backlog: s.backlog,
          forwarded: s.forwarded,
          confirmed: s.confirmed,
          redelivered: s.redelivered,
          dropped: s.dropped,
          deadLettered: s.deadLettered,
          downlinked: s.downlinked,
          confirmedPerSecond: s.confirmedPerSecond,
          lastError: s.lastError
        })
      }
    }
    if (!this.stopped) this.sampleTimer = this.deps.clock.setTimer(() => this.sample(), SAMPLE_INTERVAL_MS)
  }
}

/** A remote that is away (refused, reset, timed out) rather than one that refuses us (auth, TLS, a missing exchange). */
function isTransient(err: Error): boolean {
  if (err instanceof RemoteMismatch || err instanceof LinkSetupError) return false
  const text = `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`
  if (
    /ACCESS.REFUSED|not authori[sz]ed|bad user ?name|certificate|self.signed|refused a message|refused the subscription|exchange '|NOT.FOUND|PRECONDITION|NOT.ALLOWED|\b(403|404|406|530)\b/i.test(
      text
    )
  )
    return false
  return true
}
