// The model's durable copy in the node's one SQLite file (migration 2). Memory is the working
// state; SQLite is written through the group-committing store and read at start, and by a queue
// paging its long tail back in (paged-tail.ts).
//
// Messages share the messages / queues / queue_entries tables with the MQTT session queues: a
// message row is stored once and referenced by one entry per durable queue it was routed to
// (refs counts them). A transient message is written only for a queue that pages and holds it
// back (its entry marked transient, dropped at the next start). The messages of a turn go in one queued write, by multi-row
// INSERTs with row ids given here, as long as no other write was queued after it. Acks delete
// entries in batches (one deferred write, committed with the next new messages), a run of a
// queue's entries acked together (a consumer's multiple ack, a bridge remote's multiple confirm)
// by its seq range in a few statements, and the delivered watermark is reserved a step of entries ahead of the deliveries
// (delivered-watermark.ts), so neither costs a write per message.
import type { SqliteStore } from '../../storage/sqlite-store.ts'
import type { Logger } from '../../logger.ts'
import type { Binding } from '../binding.ts'
import type { Exchange } from '../exchange.ts'
import type { Queue } from '../queue.ts'
import type { QueueEntry } from '../queue-entry.ts'
import { Message, type MessageProperties } from '../message.ts'
import type { DurableStore, StoredBinding, StoredEntry, StoredExchange, StoredQueue } from '../durable-store.ts'
import type { PagedSummary } from '../paged-tail.ts'
import { decodeArguments, encodeArguments } from './arguments-json.ts'
import { decodeExtraRoutingKeys, encodeExtraRoutingKeys } from './extra-routing-keys-json.ts'
import { modelQueueKey, prepareModelStatements, type ModelStatements } from './model-statements.ts'

/** How message properties are kept on disk: the AMQP 0-9-1 property list, provided by the gateway. */
export interface PropertiesCodec {
  encode(properties: MessageProperties): Buffer
  decode(encoded: Buffer): MessageProperties
  /**
   * Properties read back from the store, given as the hex of their encoding (as the store reads
   * them): the bytes and their decoded form, shared and frozen when the codec keeps such lists, so
   * messages read back share them instead of each holding and decoding its own. Absent: each is decoded.
   */
  readStored?(hex: string): StoredProperties
}

export interface StoredProperties {
  /** The encoding, in an allocation of its own (not a view into a pool a message would keep alive). */
  readonly bytes: Buffer
  readonly properties: MessageProperties
}

/** Bytes of their own from the hex of an encoding. */
export function bytesOfHex(hex: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(hex.length >>> 1)
  bytes.write(hex, 'hex')
  return bytes
}

interface ExchangeRow {
  vhost: string
  name: string
  type: string
  auto_delete: number
  internal: number
  arguments: string
}
interface QueueRow {
  id: number
  vhost: string
  name: string
  auto_delete: number
  arguments: string
  delivered_seq: number
}
interface BindingRow {
  vhost: string
  source: string
  destination_kind: 'queue' | 'exchange'
  destination: string
  routing_key: string
  arguments: string
}
/** A queue entry with its message, as a raw row (model-statements.ts entryColumns, in that order). */
type EntryRow = [
  seq: number,
  messageId: number,
  topic: string,
  payload: Buffer | string,
  exchange: string | null,
  /** hex(amqp_properties): '' when the row has none. */
  amqpPropertiesHex: string,
  createdMs: number,
  refs: number,
  deliveries: number,
  extraRoutingKeys: string | null
]
const ROW_SEQ = 0
const ROW_MESSAGE_ID = 1
const ROW_TOPIC = 2
const ROW_PAYLOAD = 3
const ROW_EXCHANGE = 4
const ROW_AMQP_PROPERTIES = 5
const ROW_CREATED_MS = 6
const ROW_REFS = 7
const ROW_DELIVERIES = 8
const ROW_EXTRA_ROUTING_KEYS = 9

interface PendingPut {
  readonly message: Message
  readonly entries: readonly QueueEntry[]
  readonly properties: Buffer
  /** The entries still live when the batch ran, and the row id given then. */
  live: readonly QueueEntry[]
  id: number
}

interface PutBatch {
  readonly items: PendingPut[]
  /** store.queuedWrites right after the batch was queued: unchanged while it is the last write. */
  token: number
  committed: Promise<void>
}

const NO_ENTRIES: readonly QueueEntry[] = []
const isLive = (e: QueueEntry): boolean => e.state !== 'gone' && e.queue.storeId !== null && !e.queue.deleted
const RESOLVED = Promise.resolve()
/** Rows per multi-row INSERT: fewer statement runs, and still a short statement to prepare. */
const ROWS_PER_INSERT = 32
const MESSAGE_COLUMNS = 9
const ENTRY_COLUMNS = 4

export class SqliteDurableStore implements DurableStore {
  readonly persistent = true
  private readonly sql: ModelStatements
  private removals: QueueEntry[] = []
  private delivered = new Map<Queue, number>()
  private removalsScheduled = false
  private readonly frozenEncodings = new WeakMap<MessageProperties, Buffer>()
  private deliveredScheduled = false
  /** Entries whose delivery count is to be stored (recordDeliveries), written with the next commit. */
  private deliveryCounts = new Set<QueueEntry>()
  private deliveryCountsScheduled = false
  /** The messages being gathered into one write (putMessage), while no other write follows it. */
  private puts: PutBatch | null = null
  /** Row id of the next message: given here so a batch inserts many rows per statement. */
  private nextMessageId: number
  private readonly messageRows: unknown[] = new Array(ROWS_PER_INSERT * MESSAGE_COLUMNS).fill(null)
  private readonly entryRows: unknown[] = new Array(ROWS_PER_INSERT * ENTRY_COLUMNS).fill(null)

  constructor(
    private readonly store: SqliteStore,
    private readonly codec: PropertiesCodec,
    private readonly nowMs: () => number,
    private readonly logger: Logger
  ) {
    this.sql = prepareModelStatements(store.db, ROWS_PER_INSERT)
    this.nextMessageId = ((store.db.prepare('SELECT max(id) FROM messages').pluck().get() as number | null) ?? 0) + 1
  }

  // ---- load -----------------------------------------------------------------------------------

  loadExchanges(): StoredExchange[] {
    return (this.sql.loadExchanges.all() as ExchangeRow[]).map(r => ({
      vhost: r.vhost,
      name: r.name,
      type: r.type,
      autoDelete: r.auto_delete === 1,
      internal: r.internal === 1,
      arguments: decodeArguments(r.arguments)
    }))
  }

  loadQueues(): StoredQueue[] {
    return (this.sql.loadQueues.all() as QueueRow[]).map(r => ({
      storeId: r.id,
      vhost: r.vhost,
      name: r.name,
      autoDelete: r.auto_delete === 1,
      arguments: decodeArguments(r.arguments),
      deliveredSeq: r.delivered_seq
    }))
  }

  loadBindings(): StoredBinding[] {
    return (this.sql.loadBindings.all() as BindingRow[]).map(r => ({
      vhost: r.vhost,
      source: r.source,
      destinationKind: r.destination_kind,
      destination: r.destination,
      routingKey: r.routing_key,
      arguments: decodeArguments(r.arguments)
    }))
  }

  discardTransientEntries(): number {
    const sql = this.sql
    return this.store.db.transaction(() => {
      sql.releaseTransient.run()
      sql.deleteTransientMessages.run()
      return sql.deleteTransientEntries.run().changes
    })()
  }

  loadEntries(queue: StoredQueue, messages: Map<number, Message>, limit?: number): StoredEntry[] {
    // All of a queue that does not page is iterated (it may be millions of rows); a head is read at once.
    const rows = limit === undefined ? this.sql.loadEntries.iterate(queue.storeId) : this.sql.loadEntriesUpTo.all(queue.storeId, limit)
    return this.entriesOf(rows as Iterable<EntryRow>, messages)
  }

  summarizeEntries(queue: StoredQueue, afterSeq: number): PagedSummary {
    const r = this.sql.summarizeEntries.get(queue.deliveredSeq, queue.storeId, afterSeq) as {
      count: number
      bytes: number
      firstSeq: number | null
      lastSeq: number | null
      possiblyDelivered: number
    }
    return { count: r.count, bytes: r.bytes, firstSeq: r.firstSeq ?? afterSeq + 1, lastSeq: r.lastSeq ?? afterSeq, possiblyDelivered: r.possiblyDelivered }
  }

  /** Paged-out entries read back (a read of rows the queue's own writes put there, queued or committed). */
  readEntries(queue: Queue, afterSeq: number, toSeq: number, limit: number): StoredEntry[] {
    if (queue.storeId === null) return []
    // Rows as arrays, all at once: an iterator's step and a keyed object per row cost more than the row itself.
    return this.entriesOf(this.sql.readEntries.all(queue.storeId, afterSeq, toSeq, limit) as EntryRow[], new Map())
  }

  private entriesOf(rows: Iterable<EntryRow>, messages: Map<number, Message>): StoredEntry[] {
    const out: StoredEntry[] = []
    for (const r of rows) {
      const messageId = r[ROW_MESSAGE_ID]
      let message = messages.get(messageId)
      if (message === undefined) {
        const { bytes, properties } = this.storedProperties(r[ROW_AMQP_PROPERTIES])
        const payload = r[ROW_PAYLOAD]
        const body = typeof payload === 'string' ? Buffer.from(payload) : payload
        const extraRoutingKeys = decodeExtraRoutingKeys(r[ROW_EXTRA_ROUTING_KEYS])
        message = new Message(r[ROW_EXCHANGE] ?? '', r[ROW_TOPIC], properties, body, r[ROW_CREATED_MS], bytes, extraRoutingKeys)
        message.storeId = messageId
        // The row's references as read: they only go down from here, so this is never below them.
        message.storedRefs = r[ROW_REFS]
        messages.set(messageId, message)
      }
      out.push({ seq: r[ROW_SEQ], message, deliveries: r[ROW_DELIVERIES] })
    }
    return out
  }

  private storedProperties(hex: string): StoredProperties {
    if (hex === '') {
      const bytes = this.codec.encode({})
      return { bytes, properties: this.codec.decode(bytes) }
    }
    if (this.codec.readStored !== undefined) return this.codec.readStored(hex)
    const bytes = bytesOfHex(hex)
    return { bytes, properties: this.codec.decode(bytes) }
  }

  removeEntryRange(queue: Queue, fromSeq: number, toSeq: number): void {
    this.store
      .write(() => {
        const id = queue.storeId
        if (id !== null && !queue.deleted) this.deleteSeqRange(id, fromSeq, toSeq)
      })
      .catch(err => this.logger.error('model store: delete of purged paged-out entries failed', { queue: queue.name, err }))
  }

  // ---- definitions ----------------------------------------------------------------------------

  putExchange(x: Exchange): Promise<void> {
    const row = [x.vhost, x.name, x.type.name, x.autoDelete ? 1 : 0, x.internal ? 1 : 0, encodeArguments(x.args)]
    return this.store.write(() => {
      this.sql.upsertExchange.run(...row)
    })
  }

  deleteExchange(x: Exchange): Promise<void> {
    return this.store.write(() => {
      this.sql.deleteExchange.run(x.vhost, x.name)
      this.sql.deleteExchangeBindings.run(x.vhost, x.name, x.name)
    })
  }

  putQueue(q: Queue): Promise<void> {
    const key = modelQueueKey(q.vhost, q.name)
    const args = encodeArguments(q.args)
    const now = this.nowMs()
    return this.store.write(() => {
      const id = this.sql.insertQueue.get(key, now) as number
      this.sql.upsertDefinition.run(id, q.vhost, q.name, q.autoDelete ? 1 : 0, args)
      q.storeId = id
    })
  }

  deleteQueue(q: Queue): Promise<void> {
    return this.store.write(() => {
      const id = q.storeId
      if (id === null) return
      this.sql.releaseQueueMessages.run(id)
      this.sql.deleteQueueMessages.run(id)
      this.sql.deleteQueueEntries.run(id)
      this.sql.deleteDefinition.run(id)
      this.sql.deleteQueue.run(id)
      this.sql.deleteQueueBindings.run(q.vhost, q.name)
    })
  }

  putBinding(b: Binding): Promise<void> {
    const row = bindingRow(b)
    return this.store.write(() => {
      this.sql.insertBinding.run(...row)
    })
  }

  deleteBinding(b: Binding): Promise<void> {
    const row = bindingRow(b)
    return this.store.write(() => {
      this.sql.deleteBinding.run(...row)
    })
  }

  // ---- messages -------------------------------------------------------------------------------

  putMessage(message: Message, entries: readonly QueueEntry[]): Promise<void> {
    const properties = message.encodedProperties ?? this.encoded(message.properties)
    const put: PendingPut = { message, entries, properties, live: NO_ENTRIES, id: 0 }
    // Joins the batch queued last, unless another write was queued after it: rows must not be
    // written ahead of a write queued before them (a new queue's row, say).
    const batch = this.puts
    if (batch !== null && batch.token === this.store.queuedWrites) {
      batch.items.push(put)
      this.store.grew() // may commit the batch now, which ends it
      return batch.committed
    }
    const next: PutBatch = { items: [put], token: -1, committed: RESOLVED }
    this.puts = next
    next.committed = this.store.write(() => {
      if (this.puts === next) this.puts = null
      // A batch the store reruns after a failure (its first transaction rolled back) takes new ids.
      this.assignIds(next.items)
      this.writePuts(next.items)
    })
    // Set after write(), which may have committed the batch already (a full commit) and ended it.
    if (this.puts === next) next.token = this.store.queuedWrites
    return next.committed
  }

  /** Row ids are given here, not by SQLite, so a batch's rows go in a few multi-row statements. */
  private assignIds(items: PendingPut[]): void {
    for (const p of items) {
      // Decided when the write runs: an entry acked (or its queue deleted) meanwhile is not stored.
      const live = p.entries.every(isLive) ? p.entries : p.entries.filter(isLive)
      p.live = live
      if (live.length === 0) continue
      p.id = this.nextMessageId++
    }
  }

  private writePuts(items: PendingPut[]): void {
    // The bind values of a full multi-row statement, filled in place (no array per message or batch).
    const messageRows = this.messageRows
    const entryRows = this.entryRows
    let messages = 0
    let entries = 0
    for (const p of items) {
      const live = p.live
      if (live.length === 0) continue
      const m = p.message
      const id = p.id
      let at = messages * MESSAGE_COLUMNS
      messageRows[at++] = id
      messageRows[at++] = m.routingKey
      messageRows[at++] = m.body
      messageRows[at++] = m.bodyBytes
      messageRows[at++] = live.length
      messageRows[at++] = m.publishedAtMs
      messageRows[at++] = m.exchange
      messageRows[at++] = p.properties
      messageRows[at] = encodeExtraRoutingKeys(m.extraRoutingKeys)
      if (++messages === ROWS_PER_INSERT) {
        this.sql.insertMessages.run(messageRows)
        messages = 0
      }
      for (const e of live) {
        at = entries * ENTRY_COLUMNS
        entryRows[at++] = e.queue.storeId
        entryRows[at++] = e.seq
        entryRows[at++] = id
        // A transient message's entry is written only while its queue pages: a restart drops it.
        entryRows[at] = e.durable ? 0 : 1
        if (++entries === ROWS_PER_INSERT) {
          this.sql.insertEntries.run(entryRows)
          entries = 0
        }
      }
    }
    // The rest, a row at a time.
    for (let i = 0; i < messages; i++) this.sql.insertMessage.run(messageRows.slice(i * MESSAGE_COLUMNS, (i + 1) * MESSAGE_COLUMNS))
    for (let i = 0; i < entries; i++) this.sql.insertEntry.run(entryRows.slice(i * ENTRY_COLUMNS, (i + 1) * ENTRY_COLUMNS))
    // Values are not kept past the write: the buffers would hold message bodies alive.
    messageRows.fill(null)
    // Marked only now that every row is in: a failed batch leaves none of its entries marked stored.
    for (const p of items) {
      const live = p.live
      if (live.length === 0) continue
      p.message.storeId = p.id
      p.message.storedRefs = live.length
      for (const e of live) e.stored = true
    }
  }

  /** Shared frozen property objects (an adapter's common cases) are encoded once. */
  private encoded(properties: MessageProperties): Buffer {
    if (!Object.isFrozen(properties)) return this.codec.encode(properties)
    let bytes = this.frozenEncodings.get(properties)
    if (bytes === undefined) {
      bytes = this.codec.encode(properties)
      this.frozenEncodings.set(properties, bytes)
    }
    return bytes
  }

  removeEntry(entry: QueueEntry): void {
    this.removals.push(entry)
    if (this.removalsScheduled) return
    this.removalsScheduled = true
    let batch: QueueEntry[] | undefined
    // Deferred: nobody waits for it, so it rides on the next commit of new messages (or after
    // storage.deferredCommitMs); a kill before it commits only redelivers acked entries.
    this.store
      .writeDeferred(() => {
        // Taken on the first run; a batch the store reruns after a failure deletes the same entries.
        batch ??= this.takeRemovals()
        for (const [queue, entries] of byQueue(batch)) this.deleteEntries(queue, entries)
      })
      .catch(err => this.logger.error('model store: delete acked entries failed', { err }))
  }

  recordDeliveries(entry: QueueEntry): void {
    this.deliveryCounts.add(entry)
    if (this.deliveryCountsScheduled) return
    this.deliveryCountsScheduled = true
    let batch: Set<QueueEntry> | undefined
    // Deferred as removals are, and queued after the entry's insert (it was stored before it was handed out).
    this.store
      .writeDeferred(() => {
        batch ??= this.takeDeliveryCounts()
        for (const e of batch) {
          const queueId = e.queue.storeId
          if (queueId !== null && !e.queue.deleted && e.state !== 'gone') this.sql.setDeliveries.run(e.deliveries, queueId, e.seq)
        }
      })
      .catch(err => this.logger.error('model store: delivery counts failed', { err }))
  }

  private takeDeliveryCounts(): Set<QueueEntry> {
    const batch = this.deliveryCounts
    this.deliveryCounts = new Set()
    this.deliveryCountsScheduled = false
    return batch
  }

  markDelivered(entry: QueueEntry): void {
    const q = entry.queue
    if (entry.seq <= (this.delivered.get(q) ?? 0)) return
    this.delivered.set(q, entry.seq)
    if (this.deliveredScheduled) return
    this.deliveredScheduled = true
    let marks: Map<Queue, number> | undefined
    this.store
      .write(() => {
        marks ??= this.takeDelivered()
        for (const [queue, seq] of marks) if (queue.storeId !== null) this.sql.markDelivered.run(seq, queue.storeId)
      })
      .catch(err => this.logger.error('model store: delivered watermark failed', { err }))
  }

  reserveDelivered(queue: Queue, seq: number): Promise<void> {
    return this.store.write(() => {
      if (queue.storeId !== null && !queue.deleted) this.sql.markDelivered.run(seq, queue.storeId)
    })
  }

  setDelivered(queue: Queue, seq: number): Promise<void> {
    return this.store.write(() => {
      if (queue.storeId !== null && !queue.deleted) this.sql.setDelivered.run(seq, queue.storeId)
    })
  }

  private takeRemovals(): QueueEntry[] {
    const batch = this.removals
    this.removals = []
    this.removalsScheduled = false
    return batch
  }

  private takeDelivered(): Map<Queue, number> {
    const marks = this.delivered
    this.delivered = new Map()
    this.deliveredScheduled = false
    return marks
  }

  private deleteEntries(queue: Queue, entries: QueueEntry[]): void {
    const queueId = queue.storeId
    if (queueId === null || queue.deleted) return
    if (entries.length >= RANGE_DELETE_MIN && this.deleteRange(queueId, entries)) return
    for (const e of entries) this.deleteEntry(queueId, e)
  }

  /**
   * Deletes the entries by their seq range when the range holds exactly them (same count and sum
   * of seqs, one message each): no entry between them is still queued. Otherwise false, nothing done.
   */
  private deleteRange(queueId: number, entries: QueueEntry[]): boolean {
    let first = Number.POSITIVE_INFINITY
    let last = Number.NEGATIVE_INFINITY
    let seqSum = 0
    // Every message written by this process for this entry alone: the rows go with the entries.
    let own = true
    for (const e of entries) {
      first = Math.min(first, e.seq)
      last = Math.max(last, e.seq)
      seqSum += e.seq
      if (e.message.storedRefs !== 1) own = false
    }
    if (own) {
      // Distinct messages already: two entries of one message would have counted two refs.
      const range = this.sql.rangeCount.get(queueId, first, last) as { entries: number; seqSum: number | null }
      if (range.entries !== entries.length || range.seqSum !== seqSum) return false
      this.sql.releaseLastInRange.run(queueId, first, last)
      this.sql.deleteEntryRange.run(queueId, first, last)
    } else {
      const range = this.sql.rangeOf.get(queueId, first, last) as { entries: number; seqSum: number | null; messages: number }
      if (range.entries !== entries.length || range.seqSum !== seqSum || range.messages !== entries.length) return false
      this.deleteSeqRange(queueId, first, last)
    }
    for (const e of entries) released(e.message)
    return true
  }

  /** Deletes a queue's entries with seq in [first, last]: messages only this queue holds go, the others lose one reference. */
  private deleteSeqRange(queueId: number, first: number, last: number): void {
    // The rows deleted first are not decremented.
    this.sql.releaseLastInRange.run(queueId, first, last)
    this.sql.releaseOneInRange.run(queueId, first, last)
    this.sql.deleteEntryRange.run(queueId, first, last)
  }

  private deleteEntry(queueId: number, e: QueueEntry): void {
    const messageId = this.sql.deleteEntry.get(queueId, e.seq) as number | undefined
    if (messageId === undefined) return
    released(e.message)
    if (this.sql.releaseLast.run(messageId).changes === 0) this.sql.releaseOne.run(messageId)
  }
}

/** One stored entry of the message was deleted. */
function released(message: Message): void {
  if (message.storedRefs > 0) message.storedRefs--
}

/** Below this many entries of one queue in a batch, one by one is as cheap as checking a range. */
const RANGE_DELETE_MIN = 4

function byQueue(entries: readonly QueueEntry[]): Map<Queue, QueueEntry[]> {
  const out = new Map<Queue, QueueEntry[]>()
  for (const e of entries) {
    const list = out.get(e.queue)
    if (list === undefined) out.set(e.queue, [e])
    else list.push(e)
  }
  return out
}

function bindingRow(b: Binding): unknown[] {
  return [b.source.vhost, b.source.name, b.destination.kind, b.destination.name, b.routingKey, encodeArguments(b.arguments)]
}
