import { Readable } from 'node:stream'
import type { SqliteStore } from '../../../core/storage/sqlite-store.ts'
import {
  encodeOptionalFields, payloadBytes, publishFromRow, toPayload,
  type InPacket, type PublishPacket, type PublishRow, type PubrelPacket
} from './packet-codec.ts'
import { KIND_PUBREL, QUEUE_PREFIX, prepareQueueStatements, type QueueStatements } from './queue-statements.ts'

// The offline queue of every persistent MQTT session, on core storage: one `queues` row per
// session, one `queue_entries` row per delivery, one `messages` row per publish however many
// sessions it was queued for. aedes names an entry by its message's (brokerId, brokerCounter)
// until delivery starts, then by the MQTT packet identifier it assigned.

export type QueueOverflow = 'drop-oldest' | 'drop-newest'
export type Dropped = 'oldest' | 'newest'
export type OutgoingPacket = PublishPacket | PubrelPacket

/** A message core stored already (see SqlitePersistenceOptions.storedMessageOf). */
export interface StoredCoreMessage { readonly storeId: number | null, readonly publishedAtMs: number }
export type StoredMessageLookup = (payload: unknown) => StoredCoreMessage | undefined

export interface QueueLimits {
  maxQueuedMessages: number
  /** Payload bytes. */
  maxQueuedBytes: number
  queueOverflow: QueueOverflow
}

/** A session a publish goes to, as aedes' subscriptionsByTopic returns it. */
export interface QueueTarget {
  clientId: string
  topic?: string
  qos?: number | undefined
  rh?: number | undefined
  rap?: boolean | undefined
  nl?: boolean | undefined
}

/** How aedes names a queued packet: PUBACK/PUBCOMP/PUBREL carry only messageId. */
export type PacketRef = Partial<InPacket>

export interface QueueCounters {
  overflowDropped: number
  overflowDroppedOldest: number
  overflowDroppedNewest: number
  /** outgoingUpdate calls that found no entry (e.g. one dropped at the queue limit). */
  updateMisses: number
  /** Failed writes nobody awaited (QoS 1 messageId assignments). */
  unawaitedWriteErrors: number
}

interface QueueState { id: number, count: number, bytes: number, lastSeq: number }
interface Drop { clientId: string, dropped: Dropped }
interface EntryRow { seq: number, message_id: number | null, qos: number, retain: number, mqtt_packet_id: number | null }
interface MessageRow { topic: string, payload: Buffer | string, payload_bytes: number, properties: string | null, origin_id: string | null, origin_seq: number }
interface PageRow extends PublishRow { seq: number, kind: number, mqtt_packet_id: number | null }

const PAGE_ROWS = 256
const RESOLVED = Promise.resolve()

/** The core queue that holds an MQTT session's offline messages. */
export const sessionQueueName = (clientId: string): string => QUEUE_PREFIX + clientId

export class SessionQueues {
  readonly counters: QueueCounters = { overflowDropped: 0, overflowDroppedOldest: 0, overflowDroppedNewest: 0, updateMisses: 0, unawaitedWriteErrors: 0 }
  totalMessages = 0
  totalBytes = 0
  private readonly queues = new Map<string, QueueState>()
  private readonly sql: QueueStatements
  private suspect = false
  private resyncedAtCommit = -1

  constructor (
    private readonly store: SqliteStore,
    private readonly limits: QueueLimits,
    private readonly nowMs: () => number,
    private readonly onOverflow: (clientId: string, dropped: Dropped) => void,
    private readonly storedMessageOf: StoredMessageLookup = () => undefined
  ) {
    this.sql = prepareQueueStatements(store.db)
  }

  /** Counts per session from SQLite; returns the highest brokerCounter stored for brokerId. */
  load (brokerId: string | undefined): number {
    const keepSeq = new Map([...this.queues].map(([id, q]) => [id, q.lastSeq]))
    this.queues.clear()
    this.totalMessages = 0
    this.totalBytes = 0
    for (const row of this.sql.loadQueues.iterate() as IterableIterator<{ id: number, name: string, count: number, bytes: number, last_seq: number }>) {
      const clientId = row.name.slice(QUEUE_PREFIX.length)
      // seq never goes back while running: an open outgoingStream pages by it.
      const lastSeq = Math.max(row.last_seq, keepSeq.get(clientId) ?? 0)
      this.queues.set(clientId, { id: row.id, count: row.count, bytes: row.bytes, lastSeq })
      this.totalMessages += row.count
      this.totalBytes += row.bytes
    }
    if (brokerId === undefined) return 0
    return (this.sql.maxOriginSeq.get(brokerId) as number | null) ?? 0
  }

  depth (clientId: string): { messages: number, bytes: number } {
    const q = this.queues.get(clientId)
    return { messages: q?.count ?? 0, bytes: q?.bytes ?? 0 }
  }

  enqueue (targets: readonly QueueTarget[], packet: InPacket): Promise<void> {
    if (targets.length === 0) return RESOLVED
    // Everything is read now: aedes goes on changing the packet (clientId, messageId) after this call.
    const payload = toPayload(packet.payload)
    const size = payloadBytes(payload)
    const qos = packet.qos ?? 0
    const retain = packet.retain === true
    const message = [packet.topic, payload, size, qos, retain ? 1 : 0, encodeOptionalFields(packet), packet.brokerId ?? null, packet.brokerCounter ?? 0]
    const originSeq = packet.brokerCounter ?? 0
    const sessions = targets.map(t => ({
      clientId: t.clientId,
      qos: t.qos === undefined ? qos : Math.min(qos, t.qos), // [MQTT-3.8.4-6]
      // A subscription from aedes carries rap; without retain-as-published the flag is cleared [MQTT-3.3.1-9].
      retain: retain && (!('rap' in t) || t.rap === true) ? 1 : 0
    }))
    const drops: Drop[] = []
    const core = this.storedMessageOf(packet.payload)
    return this.write(() => {
      drops.length = 0
      const now = this.nowMs()
      const accepted: Array<{ state: QueueState, qos: number, retain: number }> = []
      for (const s of sessions) {
        const state = this.stateFor(s.clientId, now)
        if (!this.admit(state, s.clientId, size, drops)) continue
        state.count++
        state.bytes += size
        this.totalMessages++
        this.totalBytes += size
        accepted.push({ state, qos: s.qos, retain: s.retain })
      }
      if (accepted.length === 0) return
      const messageId = this.shareCoreRow(core, packet, size, accepted.length) ??
        Number(this.sql.insertMessage.run(...message, accepted.length, now).lastInsertRowid)
      for (const a of accepted) this.sql.insertEntry.run(a.state.id, ++a.state.lastSeq, messageId, originSeq, a.qos, a.retain)
    }).then(() => { for (const d of drops) this.reportDrop(d) })
  }

  /** Inside a write: references core's row for this message (refs += n), or null when there is none. */
  private shareCoreRow (core: StoredCoreMessage | undefined, packet: InPacket, size: number, refs: number): number | null {
    // storeId is set by core's own write, queued before this one (core stores, then hands to MQTT).
    if (core === undefined || core.storeId === null) return null
    const changed = this.sql.shareMessage.run(refs, encodeOptionalFields(packet, true), packet.brokerId ?? null, packet.brokerCounter ?? 0, core.storeId, size, core.publishedAtMs).changes
    return changed === 1 ? core.storeId : null
  }

  update (clientId: string, packet: PacketRef): Promise<void> {
    const packetId = packet.messageId ?? null
    if (packet.cmd !== undefined && packet.cmd !== 'publish') return this.toPubrel(clientId, packetId)
    // Downgraded to QoS 0 on the way out: no ack will clear the entry, so it goes now.
    if (packet.qos === 0) return this.clear(clientId, { brokerId: packet.brokerId, brokerCounter: packet.brokerCounter }).then(() => {})
    const originSeq = packet.brokerCounter ?? 0
    const originId = packet.brokerId ?? null
    let missed = false
    const written = this.write(() => {
      missed = false
      const state = this.queues.get(clientId)
      if (state === undefined) { missed = true; return }
      // An entry already carrying this id (a resend) or none; else, as the memory store, the first.
      if (this.sql.assignFree.run(packetId, state.id, state.id, originSeq, originId, packetId).changes > 0) return
      if (this.sql.assignAny.run(packetId, state.id, state.id, originSeq, originId).changes > 0) return
      missed = true
    }).then(() => { if (missed) this.counters.updateMisses++ })
    if (packet.qos === 1) {
      // Not awaited: the assignment joins the next group commit. Lost in a crash, the entry is
      // simply resent under a new packet id after restart, which QoS 1 (at least once) allows.
      // QoS 2 is awaited: a resend under a new id would be a second delivery.
      written.catch(() => { this.counters.unawaitedWriteErrors++ })
      return RESOLVED
    }
    return written
  }

  /** PUBREC received: the entry stays, as a PUBREL to resend, and lets go of its message. */
  private toPubrel (clientId: string, packetId: number | null): Promise<void> {
    let missed = false
    return this.write(() => {
      missed = false
      const state = this.queues.get(clientId)
      if (state === undefined) { missed = true; return }
      const entry = this.sql.findByPacketId.get(state.id, packetId) as { seq: number, message_id: number | null } | undefined
      if (entry === undefined) { missed = true; return }
      this.sql.makePubrel.run(state.id, entry.seq)
      if (entry.message_id !== null) {
        const bytes = this.release(entry.message_id)
        state.bytes -= bytes
        this.totalBytes -= bytes
      }
    }).then(() => { if (missed) this.counters.updateMisses++ })
  }

  /** PUBACK/PUBCOMP received (or delivery skipped): remove the entry, return what it held. */
  clear (clientId: string, packet: PacketRef | null | undefined): Promise<OutgoingPacket | undefined> {
    if (packet === null || typeof packet !== 'object') return Promise.resolve(undefined)
    const packetId = packet.messageId
    const originSeq = packet.brokerCounter
    const originId = packet.brokerId ?? null
    if (typeof packetId !== 'number' && typeof originSeq !== 'number') return Promise.resolve(undefined)
    let result: OutgoingPacket | undefined
    return this.write(() => {
      result = undefined
      const state = this.queues.get(clientId)
      if (state === undefined) return
      // Without a packet id (aedes skipping a duplicate delivery), the entry named by its message.
      const entry = (typeof packetId === 'number'
        ? this.sql.deleteByPacketId.get(state.id, state.id, packetId)
        : this.sql.deleteUnassigned.get(state.id, state.id, originSeq, originId)) as EntryRow | undefined
      if (entry !== undefined) result = this.removed(state, entry)
    }).then(() => result)
  }

  /** The session's queue in enqueue order, as it stood when the stream was opened. */
  stream (clientId: string): Readable {
    return Readable.from(this.entries(clientId))
  }

  private async * entries (clientId: string): AsyncGenerator<OutgoingPacket> {
    let queueId = -1
    let lastSeq = 0
    // A write turn as a barrier: everything asked of the store before this call is in.
    await this.write(() => {
      const state = this.queues.get(clientId)
      if (state !== undefined) { queueId = state.id; lastSeq = state.lastSeq }
    })
    let after = 0
    while (queueId >= 0) {
      const rows = this.sql.page.all(queueId, after, lastSeq, PAGE_ROWS) as PageRow[]
      for (const row of rows) {
        yield row.kind === KIND_PUBREL
          ? { cmd: 'pubrel', messageId: row.mqtt_packet_id as number }
          : publishFromRow(row, row.mqtt_packet_id ?? undefined)
      }
      if (rows.length < PAGE_ROWS) return
      after = (rows[rows.length - 1] as PageRow).seq
    }
  }

  private stateFor (clientId: string, now: number): QueueState {
    let state = this.queues.get(clientId)
    if (state === undefined) {
      const id = this.sql.insertQueue.get(sessionQueueName(clientId), now) as number
      state = { id, count: 0, bytes: 0, lastSeq: 0 }
      this.queues.set(clientId, state)
    }
    return state
  }

  /** Room for one more message of `size` bytes, after applying the overflow policy? */
  private admit (state: QueueState, clientId: string, size: number, drops: Drop[]): boolean {
    const { maxQueuedMessages, maxQueuedBytes, queueOverflow } = this.limits
    const fits = (): boolean => state.count < maxQueuedMessages && state.bytes + size <= maxQueuedBytes
    if (fits()) return true
    if (queueOverflow === 'drop-oldest' && size <= maxQueuedBytes) {
      while (!fits()) {
        // Only entries not yet handed to the client: one with a packet id is in flight.
        const oldest = this.sql.deleteOldestUndelivered.get(state.id, state.id) as { message_id: number } | undefined
        if (oldest === undefined) break
        const bytes = this.release(oldest.message_id)
        state.count--
        state.bytes -= bytes
        this.totalMessages--
        this.totalBytes -= bytes
        drops.push({ clientId, dropped: 'oldest' })
      }
      if (fits()) return true
    }
    drops.push({ clientId, dropped: 'newest' })
    return false
  }

  private removed (state: QueueState, entry: EntryRow): OutgoingPacket | undefined {
    state.count--
    this.totalMessages--
    if (entry.message_id === null) return { cmd: 'pubrel', messageId: entry.mqtt_packet_id as number }
    const msg = (this.sql.takeLast.get(entry.message_id) ?? this.sql.takeOne.get(entry.message_id)) as MessageRow | undefined
    if (msg === undefined) return undefined
    state.bytes -= msg.payload_bytes
    this.totalBytes -= msg.payload_bytes
    const row: PublishRow = { topic: msg.topic, payload: msg.payload, qos: entry.qos, retain: entry.retain, properties: msg.properties, origin_id: msg.origin_id, origin_seq: msg.origin_seq }
    return publishFromRow(row, entry.mqtt_packet_id ?? undefined)
  }

  /** Drop one reference to a message; the last one deletes it. Returns its payload bytes. */
  private release (messageId: number): number {
    const bytes = (this.sql.releaseLast.get(messageId) ?? this.sql.releaseOne.get(messageId)) as number | undefined
    return bytes ?? 0
  }

  private reportDrop (d: Drop): void {
    this.counters.overflowDropped++
    if (d.dropped === 'oldest') this.counters.overflowDroppedOldest++
    else this.counters.overflowDroppedNewest++
    this.onOverflow(d.clientId, d.dropped)
  }

  // The counts above change inside write functions, in commit order. When a batch fails, the store
  // rolls it back and runs its writes again one by one; the first run's count changes were not
  // rolled back, so they are reloaded from the (now consistent) database before the rerun.
  private write (fn: () => void): Promise<void> {
    let ran = false
    return this.store.write(() => {
      if (ran || this.suspect) this.resync()
      ran = true
      try {
        fn()
      } catch (err) {
        this.suspect = true
        throw err
      }
    })
  }

  private resync (): void {
    const commits = this.store.stats.commits // constant while the store reruns one failed batch
    if (!this.suspect && commits === this.resyncedAtCommit) return
    this.suspect = false
    this.resyncedAtCommit = commits
    this.load(undefined)
  }
}
