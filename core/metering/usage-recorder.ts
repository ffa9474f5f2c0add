// The periodic usage record: every metering.recordIntervalSeconds (on the interval's boundaries, so
// hourly records cover whole hours) one JSON-lines object is put into the object store beside the
// segments, so usage outlives the edge box. It holds the traffic since the previous record (per
// vhost, user and protocol) and the stored bytes per vhost at its end. A put that fails is not lost:
// the next record covers the longer span. Stopping writes the partial interval.
//   key: <prefix>_usage/<node>/<from>-<to>.jsonl, times as 20240501T100000.000Z (name order = time order)
import type { Clock, TimerHandle } from '../clock.ts'
import type { Logger } from '../logger.ts'
import type { ObjectStore } from '../tiering/object-store.ts'
import type { StoredBytes } from './stored-bytes.ts'
import type { UsageCounts, UsageMeter, UsageRow } from './usage-meter.ts'

export interface UsageRecorderOptions {
  readonly meter: UsageMeter
  /** Stored bytes per vhost now. */
  readonly stored: () => ReadonlyMap<string, StoredBytes>
  readonly store: Pick<ObjectStore, 'put' | 'description'>
  readonly clock: Clock
  /** metering.recordIntervalSeconds, in ms (> 0). */
  readonly intervalMs: number
  /** metering.node (or the host name). */
  readonly node: string
  /** Key prefix of the object store's segments ('' = none). */
  readonly keyPrefix: string
  readonly logger: Logger
}

export interface UsageRecorderStatus {
  readonly intervalSeconds: number
  readonly recordsWritten: number
  readonly failures: number
  readonly lastKey: string | null
  readonly lastError: string | null
  /** Start of the span the next record covers. */
  readonly pendingSinceMs: number
}

export const USAGE_KEY_DIR = '_usage'

export class UsageRecorder {
  private fromMs: number
  /** Totals per key as of the last record written. */
  private baseline = new Map<string, UsageCounts>()
  private timer: TimerHandle | null = null
  private writing: Promise<void> = Promise.resolve()
  private recordsWritten = 0
  private failures = 0
  private lastKey: string | null = null
  private lastError: string | null = null

  constructor(private readonly opts: UsageRecorderOptions) {
    if (!(opts.intervalMs > 0)) throw new Error(`usage records: interval must be > 0 ms, got ${opts.intervalMs}`)
    this.fromMs = opts.clock.nowMs()
  }

  status(): UsageRecorderStatus {
    return {
      intervalSeconds: this.opts.intervalMs / 1000,
      recordsWritten: this.recordsWritten,
      failures: this.failures,
      lastKey: this.lastKey,
      lastError: this.lastError,
      pendingSinceMs: this.fromMs
    }
  }

  /** Records at every interval boundary from now on. */
  start(): void {
    if (this.timer !== null) return
    const now = this.opts.clock.nowMs()
    const next = (Math.floor(now / this.opts.intervalMs) + 1) * this.opts.intervalMs
    this.timer = this.opts.clock.setTimer(() => {
      this.timer = null
      void this.recordNow()
      this.start()
    }, next - now)
  }

  /** Stops the timer and writes the partial interval (bounded by the caller's shutdown). */
  async stop(): Promise<void> {
    if (this.timer !== null) {
      this.opts.clock.clearTimer(this.timer)
      this.timer = null
    }
    await this.recordNow()
  }

  /** Writes the record of [last record's end, now); records are written one at a time, in order. */
  recordNow(): Promise<void> {
    this.writing = this.writing.then(async () => await this.write())
    return this.writing
  }

  private async write(): Promise<void> {
    const toMs = this.opts.clock.nowMs()
    const rows = this.opts.meter.rows()
    const key = `${this.opts.keyPrefix === '' ? '' : this.opts.keyPrefix.replace(/\/+$/, '') + '/'}${USAGE_KEY_DIR}/${this.opts.node}/${stamp(this.fromMs)}-${stamp(toMs)}.jsonl`
    const body = Buffer.from(
      this.lines(rows, toMs)
        .map(l => JSON.stringify(l) + '\n')
        .join('')
    )
    try {
      await this.opts.store.put(key, body)
    } catch (err) {
      this.failures++
      this.lastError = `usage records: put ${key} to ${this.opts.store.description}: ${(err as Error).message}`
      this.opts.logger.warn('usage record not written; the next one covers this span too', { key, err: (err as Error).message })
      return
    }
    this.baseline = new Map(rows.map(r => [rowId(r), { messagesIn: r.messagesIn, bytesIn: r.bytesIn, messagesOut: r.messagesOut, bytesOut: r.bytesOut }]))
    this.fromMs = toMs
    this.recordsWritten++
    this.lastKey = key
    this.lastError = null
  }

  private lines(rows: readonly UsageRow[], toMs: number): Array<Record<string, unknown>> {
    const node = this.opts.node
    const from = new Date(this.fromMs).toISOString()
    const to = new Date(toMs).toISOString()
    const out: Array<Record<string, unknown>> = []
    for (const r of rows) {
      const before = this.baseline.get(rowId(r))
      const d = {
        messagesIn: r.messagesIn - (before?.messagesIn ?? 0),
        bytesIn: r.bytesIn - (before?.bytesIn ?? 0),
        messagesOut: r.messagesOut - (before?.messagesOut ?? 0),
        bytesOut: r.bytesOut - (before?.bytesOut ?? 0)
      }
      if (d.messagesIn === 0 && d.messagesOut === 0 && d.bytesIn === 0 && d.bytesOut === 0) continue
      out.push({ type: 'traffic', node, from, to, vhost: r.vhost, user: r.user, protocol: r.protocol, ...d })
    }
    for (const [vhost, s] of this.opts.stored()) out.push({ type: 'stored', node, at: to, vhost, localBytes: s.localBytes, coldBytes: s.coldBytes })
    return out
  }
}

function rowId(r: UsageRow): string {
  return `${r.vhost}\u0000${r.user ?? '\u0001'}\u0000${r.protocol}`
}

/** 2024-05-01T10:00:00.000Z -> 20240501T100000.000Z: sortable, and a valid key component everywhere. */
export function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '')
}
