// The tiering pipeline (DESIGN.md §5). Every checkIntervalMs: seal due segments; offload sealed
// local segments that are old or beyond localBytesMax — read local, encode, put, markOffloaded, in
// that order (a retry after a crash re-puts the same bytes under the same key); then delete the
// objects of segments retention dropped and forget them. A failing object store leaves data local:
// the error is logged and kept for the admin API, and the next attempt waits by backoff.
import type { StreamSegment, TieredStreamStore } from '../streams/tiered-stream-store.ts'
import type { ObjectStore } from './object-store.ts'
import type { Clock, TimerHandle } from '../clock.ts'
import type { Logger } from '../logger.ts'
import { silentLogger } from '../logger.ts'
import { encodeSegment } from './segment-format.ts'
import { parseSegmentKey, segmentKey } from './segment-name.ts'
import { causeText } from './segment-error.ts'
import { RetryBackoff } from './retry-backoff.ts'
import { planOffload } from './offload-plan.ts'

export interface TieringManagerOptions {
  readonly streams: TieredStreamStore
  readonly store: ObjectStore
  readonly clock: Clock
  readonly logger?: Logger
  /** Segment keys are segmentKey(keyPrefix, vhost, stream, first, last) inside the store ('' = none). */
  readonly keyPrefix: string
  /** tiering.localAgeSeconds: a sealed segment whose last record is this old is offloaded. */
  readonly localAgeSeconds: number
  /** tiering.localBytesMax: beyond this many local stream bytes, sealed segments go, oldest first. */
  readonly localBytesMax: number
  /** tiering.checkIntervalMs */
  readonly checkIntervalMs: number
  /** streams.blockBytes: uncompressed bytes per block (one ranged GET reads one block). */
  readonly blockBytesTarget: number
  readonly uploadRetryInitialMs: number
  readonly uploadRetryMaxMs: number
  /** Jitter source for the backoff, [0, 1); Math.random when not given. */
  readonly random?: () => number
  /** The stream side seals segments that are full or old (streams sealDue). */
  readonly sealDue: (nowMs: number) => unknown
  /** The stream side applies retention and returns the offloaded segments whose objects must go. */
  readonly applyRetention: (nowMs: number) => readonly StreamSegment[] | Promise<readonly StreamSegment[]>
}

/** For the admin API and /metrics. */
export interface TieringStatus {
  /** Sealed local segments due for offload and not yet uploaded. */
  backlogSegments: number
  backlogBytes: number
  uploadedSegments: number
  uploadedBytes: number
  uploadFailures: number
  deletedSegments: number
  deleteFailures: number
  checks: number
  lastError: string | null
  lastErrorAtMs: number | null
  /** When uploads resume after a failure; null when none is pending. */
  nextRetryAtMs: number | null
  /** Bytes of segment objects in the store; null until a first listing succeeded. */
  storedObjectBytes: number | null
}

type Counters = Omit<TieringStatus, 'backlogSegments' | 'backlogBytes' | 'nextRetryAtMs'>

export class TieringManager {
  private readonly logger: Logger
  private readonly backoff: RetryBackoff
  private readonly counters: Counters = {
    uploadedSegments: 0,
    uploadedBytes: 0,
    uploadFailures: 0,
    deletedSegments: 0,
    deleteFailures: 0,
    checks: 0,
    lastError: null,
    lastErrorAtMs: null,
    storedObjectBytes: null
  }

  private running: Promise<void> | null = null
  private timer: TimerHandle | null = null
  private started = false
  private stopping = false

  constructor(private readonly opts: TieringManagerOptions) {
    for (const [name, value] of Object.entries({
      localAgeSeconds: opts.localAgeSeconds,
      localBytesMax: opts.localBytesMax,
      blockBytesTarget: opts.blockBytesTarget
    })) {
      if (!(value >= 0)) throw new Error(`tiering: ${name} must be >= 0, got ${value}`)
    }
    if (!(opts.checkIntervalMs > 0)) throw new Error(`tiering: checkIntervalMs must be > 0, got ${opts.checkIntervalMs}`)
    this.logger = opts.logger ?? silentLogger
    this.backoff = new RetryBackoff({
      initialMs: opts.uploadRetryInitialMs,
      maxMs: opts.uploadRetryMaxMs,
      clock: opts.clock,
      ...(opts.random === undefined ? {} : { random: opts.random })
    })
  }

  status(): TieringStatus {
    const backlog = this.plan(this.opts.clock.nowMs())
    return {
      ...this.counters,
      backlogSegments: backlog.length,
      backlogBytes: backlog.reduce((n, s) => n + s.bytes, 0),
      nextRetryAtMs: this.backoff.nextAttemptAtMs
    }
  }

  /** One check now (tests call it instead of waiting for the timer). Never rejects; joins a check in progress. */
  async runOnce(): Promise<void> {
    if (this.running === null) {
      this.running = this.check().finally(() => {
        this.running = null
      })
    }
    await this.running
  }

  /** Checks every checkIntervalMs, the first one right away. */
  start(): void {
    if (this.started) return
    this.started = true
    this.stopping = false
    this.schedule(0)
  }

  /** No new check or upload starts; resolves once the one in flight (if any) has finished. */
  async stop(): Promise<void> {
    this.stopping = true
    this.started = false
    if (this.timer !== null) this.opts.clock.clearTimer(this.timer)
    this.timer = null
    if (this.running !== null) await this.running
  }

  private schedule(delayMs: number): void {
    this.timer = this.opts.clock.setTimer(() => {
      this.timer = null
      void this.runOnce().finally(() => {
        if (this.started && !this.stopping) this.schedule(this.nextDelayMs())
      })
    }, delayMs)
  }

  /** The check interval, or sooner when a backoff ends before it. */
  private nextDelayMs(): number {
    const retryAt = this.backoff.nextAttemptAtMs
    const interval = this.opts.checkIntervalMs
    if (retryAt === null) return interval
    return Math.max(0, Math.min(interval, retryAt - this.opts.clock.nowMs()))
  }

  private plan(nowMs: number): StreamSegment[] {
    return planOffload({
      sealed: this.opts.streams.sealedLocal(),
      localBytes: this.opts.streams.localBytes(),
      nowMs,
      localAgeSeconds: this.opts.localAgeSeconds,
      localBytesMax: this.opts.localBytesMax
    })
  }

  private async check(): Promise<void> {
    this.counters.checks++
    const nowMs = this.opts.clock.nowMs()
    try {
      await this.opts.sealDue(nowMs)
    } catch (err) {
      this.recordError('seal', null, err, false)
    }
    await this.offloadDue(nowMs)
    if (this.stopping) return
    // Retention runs even while the store is down: it frees local rows; only its deletes wait.
    await this.applyRetention(nowMs)
  }

  private async offloadDue(nowMs: number): Promise<void> {
    if (!this.backoff.canAttempt()) return
    if (this.counters.storedObjectBytes === null && !(await this.countStoredBytes())) return
    for (const segment of this.safePlan(nowMs)) {
      if (this.stopping) return
      if (!(await this.offload(segment))) return
    }
  }

  private safePlan(nowMs: number): StreamSegment[] {
    try {
      return this.plan(nowMs)
    } catch (err) {
      this.recordError('plan', null, err, false)
      return []
    }
  }

  /** read local -> encode -> put -> markOffloaded. False when a step failed (the segment stays local). */
  private async offload(segment: StreamSegment): Promise<boolean> {
    const { vhost, stream, firstOffset, lastOffset } = segment
    const key = segmentKey(this.opts.keyPrefix, vhost, stream, firstOffset, lastOffset)
    let op = 'read local'
    try {
      const records = this.opts.streams.readLocal(segment.streamId, firstOffset, lastOffset)
      if (records.length !== segment.records) {
        throw new Error(`${vhost}/${stream} ${firstOffset}..${lastOffset}: read ${records.length} local records, the segment has ${segment.records}`)
      }
      op = 'encode'
      // createdAtMs comes from the segment, not the clock: a retry must produce the same bytes.
      const { bytes, index } = encodeSegment({ vhost, stream, createdAtMs: segment.lastTimestampMs }, records, { blockBytesTarget: this.opts.blockBytesTarget })
      op = 'put'
      await this.opts.store.put(key, bytes)
      op = 'mark offloaded'
      await this.opts.streams.markOffloaded(segment, key, index)
      this.counters.uploadedSegments++
      this.counters.uploadedBytes += bytes.length
      this.counters.storedObjectBytes = (this.counters.storedObjectBytes ?? 0) + bytes.length
      this.backoff.recordSuccess()
      this.logger.debug('tiering: offloaded', { key, records: records.length, bytes: bytes.length })
      return true
    } catch (err) {
      this.counters.uploadFailures++
      this.recordError(op, key, err, true)
      return false
    }
  }

  /** Objects of segments retention dropped are deleted, then forgotten (a failed delete is retried next check). */
  private async applyRetention(nowMs: number): Promise<void> {
    let dropped: readonly StreamSegment[]
    try {
      dropped = await this.opts.applyRetention(nowMs)
    } catch (err) {
      this.recordError('retention', null, err, false)
      return
    }
    for (const segment of dropped) {
      // The stream side returns these again at the next check while their manifest rows remain.
      if (this.stopping || !this.backoff.canAttempt()) return
      const key = segment.objectKey
      let op = 'delete'
      try {
        if (key !== null) await this.opts.store.delete(key)
        op = 'forget offloaded'
        await this.opts.streams.forgetOffloaded(segment)
        this.counters.deletedSegments++
        const size = segment.index?.sizeBytes ?? 0
        if (this.counters.storedObjectBytes !== null) this.counters.storedObjectBytes = Math.max(0, this.counters.storedObjectBytes - size)
        this.backoff.recordSuccess()
      } catch (err) {
        this.counters.deleteFailures++
        this.recordError(op, key, err, true)
        return
      }
    }
  }

  /** One listing at the first reachable check, then kept up to date by puts and deletes. */
  private async countStoredBytes(): Promise<boolean> {
    try {
      const objects = await this.opts.store.list(this.opts.keyPrefix === '' ? '' : `${this.opts.keyPrefix.replace(/\/+$/, '')}/`)
      this.counters.storedObjectBytes = objects.filter(o => parseSegmentKey(o.key) !== null).reduce((n, o) => n + o.sizeBytes, 0)
      return true
    } catch (err) {
      this.recordError('list', this.opts.keyPrefix, err, true)
      return false
    }
  }

  /** backOff: the step touches the object store (or the manifest after it), so the next attempt waits. */
  private recordError(op: string, key: string | null, err: unknown, backOff: boolean): void {
    const nowMs = this.opts.clock.nowMs()
    const retryInMs = backOff ? this.backoff.recordFailure() : null
    this.counters.lastError = `tiering: ${op}${key === null ? '' : ` ${key}`}: ${causeText(err)}`
    this.counters.lastErrorAtMs = nowMs
    this.logger.warn('tiering: step failed', { op, key, store: this.opts.store.description, err: causeText(err), retryInMs })
  }
}
