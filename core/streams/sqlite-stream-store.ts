// Stream storage on the node's SQLite file (migration 3): the append path, segment sealing,
// retention, paged local reads for consumers, and the TieredStreamStore side the tiering pipeline
// works against. Appends are group-committed through SqliteStore.write, and a record becomes
// readable (committedEnd) only after its commit, so no consumer ever sees an offset a crash could
// give to another message.
import type { SqliteStore } from '../storage/sqlite-store.ts'
import type { Logger } from '../logger.ts'
import type { Message } from '../model/message.ts'
import type { Clock, TimerHandle } from '../clock.ts'
import type { PropertiesCodec } from '../model/sqlite/sqlite-durable-store.ts'
import type { SegmentIndex } from '../tiering/segment-index.ts'
import type { StreamRecord } from './stream-record.ts'
import type { ColdReads, StreamSegment, TieredStreamStore } from './tiered-stream-store.ts'
import type { StreamPolicy } from './stream-arguments.ts'
import { StreamLog, type StreamRef } from './stream-log.ts'
import { segmentsToDrop } from './stream-retention.ts'
import { prepareStreamStatements, type CountRow, type RecordRow, type SegmentRow, type StreamStatements } from './stream-statements.ts'

export interface SqliteStreamStoreOptions {
  /** streams.segmentBytes: the open segment is sealed once its records hold this many bytes. */
  readonly segmentBytes: number
  /** streams.segmentAgeSeconds: ...or once its first record is this old. */
  readonly segmentAgeSeconds: number
  /** Records per local range query of a consumer (one page). */
  readonly readPageRecords: number
  /** A page stops early once its records hold this many bytes (at least one record is read). */
  readonly readPageBytesMax: number
  /** A consumer's failed cold read is tried again after this long. */
  readonly coldReadRetryMs: number
  /** How often sealDue and applyRetention run on their own; 0 = only when called. */
  readonly maintenanceIntervalMs: number
  readonly clock: Clock
  readonly logger: Logger
  /** Reads of offloaded segments; null while tiering is off (see useColdReads). */
  readonly coldReads?: ColdReads | null
}

export const streamReadDefaults = { readPageRecords: 256, readPageBytesMax: 4 * 1024 * 1024, coldReadRetryMs: 1000 } as const

export class SqliteStreamStore implements TieredStreamStore {
  private readonly sql: StreamStatements
  private readonly logs = new Set<StreamLog>()
  /** Offloaded segments of deleted streams: their objects are still to be deleted. */
  private orphans: StreamSegment[] = []
  private cold: ColdReads | null
  private timer: TimerHandle | undefined
  private closed = false

  constructor(
    private readonly store: SqliteStore,
    private readonly codec: PropertiesCodec,
    private readonly opts: SqliteStreamStoreOptions
  ) {
    if (!(opts.segmentBytes > 0) || !(opts.segmentAgeSeconds > 0)) {
      throw new Error(`streams: segmentBytes (${opts.segmentBytes}) and segmentAgeSeconds (${opts.segmentAgeSeconds}) must be positive`)
    }
    this.sql = prepareStreamStatements(store.db)
    this.cold = opts.coldReads ?? null
    this.scheduleMaintenance()
  }

  get coldReads(): ColdReads | null {
    return this.cold
  }

  /** The tiering pipeline hands its cold reader over once it is built (null: tiering off). */
  useColdReads(cold: ColdReads | null): void {
    this.cold = cold
  }

  get logger(): Logger {
    return this.opts.logger
  }
  get clock(): Clock {
    return this.opts.clock
  }
  get readPageRecords(): number {
    return this.opts.readPageRecords
  }
  get coldReadRetryMs(): number {
    return this.opts.coldReadRetryMs
  }

  // ---- streams --------------------------------------------------------------------------------

  /** The log of a stream: empty for a new one (storeId null), read back for a stored one. */
  open(ref: StreamRef, policy: StreamPolicy): StreamLog {
    const log = new StreamLog(ref, policy)
    if (ref.storeId !== null) this.load(log, ref.storeId)
    this.logs.add(log)
    return log
  }

  /** The stream was deleted: its records and manifest go; its objects are left for applyRetention to return. */
  drop(log: StreamLog): Promise<void> {
    if (log.dropped) return Promise.resolve()
    log.dropped = true
    this.logs.delete(log)
    this.orphans.push(...log.segments.filter(s => s.state === 'offloaded'), ...log.retired)
    const id = log.streamId
    if (id === null) return Promise.resolve()
    return this.store.write(() => {
      this.sql.deleteStreamRecords.run(id)
      this.sql.deleteStreamSegments.run(id)
    })
  }

  // ---- append and sealing ---------------------------------------------------------------------

  /** Gives the message the next offset at once; resolves after its record committed. */
  append(log: StreamLog, message: Message, nowMs: number): Promise<void> {
    const ts = Math.max(nowMs, log.lastTimestampMs)
    if (this.ageDue(log, ts)) this.seal(log)
    const offset = log.nextOffset++
    const properties = message.encodedProperties ?? this.codec.encode(message.properties)
    const o = log.open
    if (o.records === 0) o.firstTimestampMs = ts
    o.records++
    o.bytes += message.body.length + Buffer.byteLength(message.routingKey) + Buffer.byteLength(message.exchange) + properties.length
    o.lastTimestampMs = ts
    log.lastTimestampMs = ts
    const openRow = log.openRowWritten ? undefined : o.firstOffset
    log.openRowWritten = true
    const stored = this.store.write(() => {
      const id = this.storedId(log, `append ${offset}`)
      if (openRow !== undefined) this.sql.insertOpen.run(id, openRow, openRow)
      this.sql.insertRecord.run(id, offset, ts, message.exchange, message.routingKey, properties, message.body)
    })
    stored.then(
      () => this.committed(log, offset),
      () => {}
    )
    if (o.bytes >= (log.policy.segmentBytes ?? this.opts.segmentBytes)) this.seal(log)
    return stored
  }

  /** Seals every open segment whose first record is segmentAgeSeconds old; returns how many. */
  sealDue(nowMs: number): number {
    let sealed = 0
    for (const log of this.logs) {
      if (this.ageDue(log, nowMs)) {
        this.seal(log)
        sealed++
      }
    }
    return sealed
  }

  private ageDue(log: StreamLog, nowMs: number): boolean {
    return log.open.records > 0 && nowMs - log.open.firstTimestampMs >= this.opts.segmentAgeSeconds * 1000
  }

  /** The open segment becomes sealed (queued after its records, so it commits after them). */
  private seal(log: StreamLog): void {
    if (log.open.records === 0) return
    const segment = log.openAsSegment()
    log.segments.push(segment)
    log.resetOpen()
    const nextFirst = log.open.firstOffset
    this.store
      .write(() => {
        const id = this.storedId(log, `seal ${segment.firstOffset}..${segment.lastOffset}`)
        this.putSegment(id, segment, null)
        this.sql.insertOpen.run(id, nextFirst, nextFirst)
      })
      .catch(err => this.opts.logger.error('streams: seal segment failed', { vhost: log.ref.vhost, stream: log.ref.name, first: segment.firstOffset, err }))
  }

  private committed(log: StreamLog, offset: number): void {
    if (offset + 1 > log.committedEnd) log.committedEnd = offset + 1
    // One wake-up per commit, after every append of that commit advanced committedEnd.
    if (log.wakeScheduled) return
    log.wakeScheduled = true
    queueMicrotask(() => {
      log.wakeScheduled = false
      if (!log.dropped) log.onCommitted()
    })
  }

  // ---- retention ------------------------------------------------------------------------------

  /**
   * Drops whole sealed segments past x-max-age or beyond x-max-length-bytes (counted over both
   * tiers; never the open segment). Local ones are deleted here; offloaded ones are returned (also
   * on later calls, until forgetOffloaded) so the tiering side deletes their objects first.
   */
  applyRetention(nowMs: number): StreamSegment[] {
    const out: StreamSegment[] = []
    for (const log of this.logs) {
      const n = segmentsToDrop(log.segments, log.open.bytes, log.policy, nowMs)
      if (n > 0) {
        const dropped = log.segments.splice(0, n)
        const local = dropped.filter(s => s.state !== 'offloaded')
        log.retired.push(...dropped.filter(s => s.state === 'offloaded'))
        if (local.length > 0) this.deleteLocal(log, local)
      }
      out.push(...log.retired)
    }
    out.push(...this.orphans)
    return out
  }

  private deleteLocal(log: StreamLog, segments: readonly StreamSegment[]): void {
    this.store
      .write(() => {
        const id = this.storedId(log, 'retention')
        for (const s of segments) {
          this.sql.deleteRecords.run(id, s.firstOffset, s.lastOffset)
          this.sql.deleteSegment.run(id, s.firstOffset)
        }
      })
      .catch(err => this.opts.logger.error('streams: retention delete failed', { vhost: log.ref.vhost, stream: log.ref.name, err }))
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** A page of committed local records from fromOffset, for a consumer. */
  readPage(log: StreamLog, fromOffset: number): StreamRecord[] {
    const id = log.streamId
    if (id === null || fromOffset >= log.committedEnd) return []
    const out: StreamRecord[] = []
    let bytes = 0
    for (const row of this.sql.readRecords.iterate(id, fromOffset, log.committedEnd - 1, this.opts.readPageRecords) as IterableIterator<RecordRow>) {
      out.push(this.toRecord(row))
      bytes += row.body.length + row.properties.length
      if (bytes >= this.opts.readPageBytesMax) break
    }
    return out
  }

  // ---- TieredStreamStore ----------------------------------------------------------------------

  sealedLocal(): StreamSegment[] {
    return (this.sql.sealedLocal.all() as SegmentRow[]).map(toSegment)
  }

  readLocal(streamId: number, firstOffset: number, lastOffset: number): StreamRecord[] {
    const rows = this.sql.readRecords.all(streamId, firstOffset, lastOffset, lastOffset - firstOffset + 1) as RecordRow[]
    return rows.map(r => this.toRecord(r))
  }

  markOffloaded(segment: StreamSegment, objectKey: string, index: SegmentIndex): Promise<void> {
    const updated: StreamSegment = { ...segment, state: 'offloaded', objectKey, index }
    const log = this.logOf(segment.streamId)
    if (log === undefined) {
      // Deleted meanwhile: no manifest row (the id may be reused); its object is an orphan to delete.
      if (!this.orphans.some(s => sameSegment(s, updated))) this.orphans.push(updated)
      return Promise.resolve()
    }
    // A stream deleted and declared again under the same name writes the same keys: the new object
    // replaced the old one, so an orphan of that key must not be deleted (it would take the new one).
    this.orphans = this.orphans.filter(o => o.objectKey !== objectKey)
    if (segment.lastOffset >= log.open.firstOffset) {
      return Promise.reject(
        new Error(`streams: mark offloaded ${describeSegment(segment)}: not a sealed segment (open segment starts at ${log.open.firstOffset})`)
      )
    }
    const indexJson = JSON.stringify(index)
    return this.store.write(() => {
      this.putSegment(segment.streamId, updated, indexJson)
      this.sql.deleteRecords.run(segment.streamId, segment.firstOffset, segment.lastOffset)
      // Memory changes with the rows, in the same step: readers never look for deleted local rows,
      // and the sealed rows and local bytes the tiering backlog is computed from always agree (an
      // upload is in the backlog or counted, never neither: tiering-e2e "each upload is one object").
      const i = log.segments.findIndex(s => s.firstOffset === segment.firstOffset)
      if (i >= 0) log.segments[i] = updated
      else if (!log.retired.some(s => s.firstOffset === segment.firstOffset)) log.retired.push(updated) // retention dropped it during the upload
    })
  }

  offloaded(streamId: number): StreamSegment[] {
    const log = this.logOf(streamId)
    if (log !== undefined) return log.segments.filter(s => s.state === 'offloaded')
    return (this.sql.offloaded.all(streamId) as SegmentRow[]).map(toSegment)
  }

  forgetOffloaded(segment: StreamSegment): Promise<void> {
    this.orphans = this.orphans.filter(s => !sameSegment(s, segment))
    const log = this.logOf(segment.streamId)
    if (log === undefined) return Promise.resolve() // an orphan: its rows went with its stream
    log.retired = log.retired.filter(s => s.firstOffset !== segment.firstOffset)
    // Not dropped by retention: only the oldest segment can go without leaving a hole.
    const head = log.segments[0]
    if (head !== undefined && head.firstOffset === segment.firstOffset && head.state === 'offloaded') log.segments.shift()
    const key = segment.objectKey ?? ''
    return this.store.write(() => {
      this.sql.deleteOffloaded.run(segment.streamId, segment.firstOffset, key)
    })
  }

  localBytes(): number {
    let n = 0
    for (const log of this.logs) n += log.localBytes()
    return n
  }

  /** Stops the maintenance timer (the SQLite store is closed by its owner). */
  close(): void {
    this.closed = true
    if (this.timer !== undefined) this.opts.clock.clearTimer(this.timer)
    this.timer = undefined
  }

  // ---- internals ------------------------------------------------------------------------------

  private scheduleMaintenance(): void {
    if (this.opts.maintenanceIntervalMs <= 0 || this.closed) return
    this.timer = this.opts.clock.setTimer(() => {
      this.timer = undefined
      try {
        const now = this.opts.clock.nowMs()
        this.sealDue(now)
        this.applyRetention(now)
      } catch (err) {
        this.opts.logger.error('streams: maintenance failed', { err })
      }
      this.scheduleMaintenance()
    }, this.opts.maintenanceIntervalMs)
  }

  private load(log: StreamLog, id: number): void {
    let openFirst: number | undefined
    for (const row of this.sql.loadSegments.all(id) as SegmentRow[]) {
      if (row.state === 'open') openFirst = row.first_offset
      else log.segments.push(toSegment(row))
    }
    const last = log.segments.at(-1)
    log.openRowWritten = openFirst !== undefined
    const first = openFirst ?? (last === undefined ? 0 : last.lastOffset + 1)
    const count = this.sql.countFrom.get(id, first) as CountRow
    const o = log.open
    o.firstOffset = first
    o.records = count.records
    o.bytes = count.bytes
    o.firstTimestampMs = count.first_ts ?? 0
    o.lastTimestampMs = count.last_ts ?? 0
    log.nextOffset = count.last_offset === null ? first : count.last_offset + 1
    log.committedEnd = log.nextOffset
    log.lastTimestampMs = Math.max(count.last_ts ?? 0, last?.lastTimestampMs ?? 0)
    if (log.nextOffset - first !== count.records) {
      this.opts.logger.warn('streams: open segment has gaps (appends that failed to commit)', {
        vhost: log.ref.vhost,
        stream: log.ref.name,
        first,
        next: log.nextOffset,
        records: count.records
      })
    }
  }

  private putSegment(id: number, s: StreamSegment, indexJson: string | null): void {
    this.sql.upsertSegment.run(id, s.firstOffset, s.lastOffset, s.records, s.bytes, s.firstTimestampMs, s.lastTimestampMs, s.state, s.objectKey, indexJson)
  }

  private storedId(log: StreamLog, what: string): number {
    const id = log.streamId
    if (id === null || log.dropped)
      throw new Error(`streams: ${what} of stream '${log.ref.name}' in vhost '${log.ref.vhost}': the stream is not stored (deleted?)`)
    return id
  }

  private logOf(streamId: number): StreamLog | undefined {
    for (const log of this.logs) if (log.streamId === streamId) return log
    return undefined
  }

  private toRecord(r: RecordRow): StreamRecord {
    return {
      offset: r.stream_offset,
      timestampMs: r.timestamp_ms,
      exchange: r.exchange,
      routingKey: r.routing_key,
      properties: this.codec.decode(r.properties),
      body: r.body
    }
  }
}

function toSegment(r: SegmentRow): StreamSegment {
  return {
    streamId: r.stream_id,
    vhost: r.vhost,
    stream: r.name,
    firstOffset: r.first_offset,
    lastOffset: r.last_offset,
    records: r.records,
    bytes: r.bytes,
    firstTimestampMs: r.first_ts,
    lastTimestampMs: r.last_ts,
    state: r.state,
    objectKey: r.object_key,
    index: r.index_json === null ? null : (JSON.parse(r.index_json) as SegmentIndex)
  }
}

function sameSegment(a: StreamSegment, b: StreamSegment): boolean {
  return a.streamId === b.streamId && a.firstOffset === b.firstOffset && a.objectKey === b.objectKey
}

function describeSegment(s: StreamSegment): string {
  return `segment ${s.firstOffset}..${s.lastOffset} of stream '${s.stream}' in vhost '${s.vhost}'`
}
