// A classic queue: ready entries in delivery order, entries handed out until settled, consumers
// served round robin while they have credit (the highest x-priority first, as RabbitMQ's consumer
// priorities); TTL, length limits, priorities and single active consumer from its arguments
// (queue-arguments.ts). A durable FIFO queue longer than storage.queueMemoryMessagesMax keeps the
// rest in the store only (paged-tail.ts).
import { messageTtlMs, type Arguments, type Message } from './message.ts'
import { QueueEntry } from './queue-entry.ts'
import { DeliveredWatermark } from './delivered-watermark.ts'
import { createReadyQueue, type ReadyQueue } from './ready-queue.ts'
import { PAGE_IN_BATCH, PagedTail, type PagedSummary, type QueuePaging } from './paged-tail.ts'
import { QueueFlow, type QueueFlowSettings } from './queue-flow.ts'
import { consumerPriority, type QueuePolicy } from './queue-arguments.ts'
import type { QueueType } from './queue-types/queue-type.ts'
import { Queue, type Accepted, type QueueConsumer, type QueueDeclaration, type QueueHost, type RemovalReason } from './queue.ts'

export class ClassicQueue extends Queue {
  readonly ready: ReadyQueue
  /** Highest seq given out; seq orders entries for requeue and storage. */
  lastSeq = 0
  /** Made at the first durable entry handed out (or restored with a watermark): a transient queue has none. */
  private watermark: DeliveredWatermark | undefined = undefined
  private rr = 0
  private dispatching = false
  private again = false
  /**
   * An entry accepted with TTL 0, until the dispatch that follows its accept: as RabbitMQ, it goes to
   * a consumer that can take it at once, and expires otherwise (TTL 0 as the 'immediate' flag's stand-in).
   */
  private dueNow: QueueEntry | undefined = undefined
  /** Consumers attached with an x-priority other than 0; made for the first (most queues have none). */
  private priorities: Map<QueueConsumer, number> | undefined = undefined
  /** Paging, when this queue may page (durable, not exclusive, no priorities, a store that keeps entries). */
  private readonly paging: QueuePaging | null
  /** What is behind the ready list while the queue pages; made at the first entry it holds back. */
  private paged: PagedTail | undefined = undefined
  /** Holds publishers' acknowledgements while the consumers fall behind (queue-flow.ts). */
  private readonly flow: QueueFlow | undefined

  constructor(
    type: QueueType,
    d: QueueDeclaration,
    policy: QueuePolicy,
    host: QueueHost,
    paging: QueuePaging | null = null,
    flow: QueueFlowSettings | null = null
  ) {
    super(type, d, policy, host)
    this.ready = createReadyQueue(policy.maxPriority)
    // A priority queue serves the highest level first, so its head is not the oldest seq: it keeps all in memory.
    const pages = paging !== null && d.durable && d.exclusiveOwner === null && policy.maxPriority === undefined && paging.memoryMessagesMax > 0
    this.paging = pages ? paging : null
    this.flow = flow === null ? undefined : new QueueFlow(flow, how => this.host.flowEnded(this, how))
  }

  override flowHold(): Promise<void> | undefined {
    return this.flow?.hold(this.messageCount, this.consumers.length, this.unackedCount)
  }

  override get inFlow(): boolean {
    return this.flow?.active === true
  }

  get messageCount(): number {
    const p = this.paged
    return p === undefined ? this.ready.length : this.ready.length + p.length
  }
  get messageBytes(): number {
    const p = this.paged
    return p === undefined ? this.ready.bytes : this.ready.bytes + p.totalBytes
  }
  /** Entries a restart reads back into memory when this queue pages (it has no consumers yet), else undefined: all. */
  get memoryMessagesAtStart(): number | undefined {
    return this.paging?.idleMemoryMessagesMax
  }
  /** Ready messages held in memory (the rest, if any, wait in the store). */
  get messagesInMemory(): number {
    return this.ready.length + (this.paged?.held.length ?? 0)
  }

  /**
   * Appends a message; with x-max-length(-bytes) reached, drops from the head (drop-head) or
   * refuses it (reject-publish).
   */
  accept(message: Message, messageTtlMs: number | undefined): Accepted {
    // The clock only when a TTL is involved: most messages have none, and a read costs about 0.1 µs.
    const ttl = minDefined(this.policy.messageTtlMs, messageTtlMs)
    const headExpires = this.ready.peek()?.expiresAtMs !== undefined
    const now = ttl !== undefined || headExpires ? this.host.nowMs() : 0
    if (headExpires) this.expire(now)
    const { maxLength, maxLengthBytes, overflow } = this.policy
    const size = message.bodyBytes
    const bounded = !this.policy.boundsOnlyWhenIdle || this.consumers.length === 0
    const over = (extra: number, bytes: number): boolean =>
      bounded &&
      ((maxLength !== undefined && this.messageCount + extra > maxLength) || (maxLengthBytes !== undefined && this.messageBytes + bytes > maxLengthBytes))
    if (overflow !== 'drop-head' && over(1, size)) {
      this.host.overflowed(this, 'rejected')
      return 'rejected'
    }
    const priority = Math.min(message.properties.priority ?? 0, this.policy.maxPriority ?? 0)
    const entry = new QueueEntry(this, message, ++this.lastSeq, priority, ttl === undefined ? undefined : now + ttl)
    const held = this.append(entry)
    while (over(0, 0) && this.ready.length > 0) {
      this.host.overflowed(this, 'dropped')
      this.remove(this.takeHead() as QueueEntry, 'maxlen')
    }
    if (entry.expiresAtMs !== undefined) this.host.expireAt(this, entry.expiresAtMs)
    if (ttl === 0) this.dueNow = entry
    // A transient entry held back is stored too (marked transient), so that it pages out as a
    // persistent one does instead of keeping itself and all behind it in memory.
    return entry.durable || held ? { entry } : {}
  }

  /**
   * A new entry goes behind what is paged out, or held back once the ready list holds its share of
   * memory; true when held back.
   */
  private append(entry: QueueEntry): boolean {
    const paging = this.paging
    if (paging === null || ((this.paged?.length ?? 0) === 0 && this.ready.length < this.memoryBound(paging))) {
      this.ready.push(entry)
      return false
    }
    ;(this.paged ??= new PagedTail()).hold(entry)
    return true
  }

  /**
   * An entry read back from storage (at start, or paged back in), in seq order. deliveries: the
   * hand-outs stored at its last return; one possibly made before the restart (redelivered) counts
   * when none was stored (a hand-out after the last stored return goes uncounted).
   */
  restore(message: Message, seq: number, redelivered: boolean, deliveries = 0): QueueEntry {
    const priority = Math.min(message.properties.priority ?? 0, this.policy.maxPriority ?? 0)
    const ttl = minDefined(this.policy.messageTtlMs, safeTtl(message))
    const entry = new QueueEntry(this, message, seq, priority, ttl === undefined ? undefined : message.publishedAtMs + ttl)
    entry.stored = true
    entry.redelivered = redelivered || deliveries > 0
    entry.deliveries = Math.max(deliveries, redelivered ? 1 : 0)
    this.lastSeq = Math.max(this.lastSeq, seq)
    this.ready.push(entry)
    return entry
  }

  /**
   * At start: the entries possibly delivered before the stop (they go again, marked redelivered),
   * those read back and those still in the store alike.
   */
  possiblyDeliveredAtStart(): number {
    let n = this.paged?.possiblyDeliveredAtStart ?? 0
    for (const e of this.ready.entries()) if (e.redelivered) n++
    return n
  }

  /** At start: what the store holds beyond the entries loaded (seq order), read back as the ready list drains. */
  restorePaged(summary: PagedSummary, deliveredSeq: number): void {
    if (summary.count === 0) return
    const p = (this.paged ??= new PagedTail())
    p.restored(summary, deliveredSeq)
    this.lastSeq = Math.max(this.lastSeq, summary.lastSeq)
  }

  /** The delivered watermark read back at start: entries up to it count as possibly delivered, and may go at once. */
  restoreDelivered(seq: number): void {
    if (seq > 0) this.watermark = this.newWatermark(seq)
  }

  /** Highest seq that may have been delivered, when the stored watermark is above it (a clean shutdown writes it back). */
  get deliveredSeqBelowReserved(): number | undefined {
    const w = this.watermark
    return w?.reservedAhead === true ? w.deliveredSeq : undefined
  }

  /** Of the consume arguments only x-priority means something here (as in RabbitMQ, unknown ones are ignored). */
  addConsumer(consumer: QueueConsumer, args: Arguments): void {
    const priority = consumerPriority(args, this.description)
    this.attach(consumer)
    if (priority !== 0) (this.priorities ??= new Map()).set(consumer, priority)
  }

  override removeConsumer(consumer: QueueConsumer): void {
    const wasActive = this.policy.singleActiveConsumer && this.consumers[0] === consumer
    this.priorities?.delete(consumer)
    super.removeConsumer(consumer)
    if (this.consumers.length === 0) this.trimToIdleBound()
    this.flow?.eased(this.messageCount, this.consumers.length)
    // RabbitMQ 3.13's classic queues hand over to the highest x-priority waiting (rabbit_queue_consumers:
    // get_consumer); its quorum queues (this class too) to the longest waiting, whatever its priority.
    if (wasActive && this.type.name === 'classic') this.activateHighestPriority()
  }

  /** Moves the highest-priority consumer (the longest attached among equals) to the front: the active one. */
  private activateHighestPriority(): void {
    const priorities = this.priorities
    if (priorities === undefined || priorities.size === 0) return
    let best = 0
    for (let i = 1; i < this.consumers.length; i++) {
      const c = this.consumers[i] as QueueConsumer
      if ((priorities.get(c) ?? 0) > (priorities.get(this.consumers[best] as QueueConsumer) ?? 0)) best = i
    }
    if (best > 0) this.consumers.unshift(...this.consumers.splice(best, 1))
  }

  /** Hands ready entries to consumers with credit, round robin, until either runs out. */
  dispatch(): void {
    if (this.dispatching) {
      this.again = true
      return
    }
    this.dispatching = true
    try {
      do {
        this.again = false
        if (this.ready.peek()?.expiresAtMs !== undefined) this.expire(this.host.nowMs(), this.dueNow)
        while (this.ready.length > 0 && this.consumers.length > 0 && !this.deleted) {
          // Beyond the committed delivered watermark: dispatched again once its reservation commits.
          if (!this.covered(this.ready.peek() as QueueEntry)) break
          const consumer = this.nextWithCredit()
          if (consumer === undefined) break
          this.handOut(this.takeHead() as QueueEntry, consumer)
        }
      } while (this.again)
      // A TTL 0 entry nobody could take at once expires now (from the head, as every TTL).
      const due = this.dueNow
      this.dueNow = undefined
      if (due?.state === 'ready') this.expire(this.host.nowMs())
      if (this.flow?.watching === true) this.flow.eased(this.messageCount, this.consumers.length)
    } finally {
      this.dispatching = false
    }
  }

  get(noAck: boolean): QueueEntry | undefined {
    this.expire(this.host.nowMs())
    const entry = this.takeHead()
    if (entry === undefined) return undefined
    // basic.get does not wait for a reservation: an entry beyond it gets the lazy mark (the host's).
    this.takeOut(entry, noAck, this.covered(entry))
    return entry
  }

  /** Rejected entries are dead-lettered if the queue says so (the vhost does it on removal). */
  settle(entry: QueueEntry, reason: 'acked' | 'rejected'): void {
    if (entry.state !== 'unacked') return
    this.unackedCount--
    this.remove(entry, reason)
  }

  /** Entries handed out go back to their places, marked redelivered. */
  requeue(entries: Iterable<QueueEntry>): void {
    let any = false
    for (const entry of entries) {
      if (entry.state !== 'unacked') continue
      this.unackedCount--
      if (this.deleted) {
        entry.state = 'gone'
        continue
      }
      // x-delivery-limit (quorum queues): given back more often than that, it is a poison message.
      const limit = this.policy.deliveryLimit
      if (limit !== undefined && entry.deliveries > limit) {
        this.remove(entry, 'delivery_limit')
        continue
      }
      entry.state = 'ready'
      entry.redelivered = true
      if (this.type.countsDeliveries) this.host.deliveriesCounted(entry)
      this.ready.insert(entry)
      any = true
    }
    if (!any) return
    if (this.consumers.length === 0) this.trimToIdleBound()
    this.dispatch()
  }

  purge(): number {
    const all = this.ready.clear()
    for (const entry of all) this.remove(entry, 'purged')
    this.flow?.eased(0, this.consumers.length)
    const p = this.paged
    if (p === undefined) return all.length
    const { held, range, count } = p.clear()
    if (range !== null) this.paging?.pager.removeEntryRange(this, range.fromSeq, range.toSeq)
    for (const entry of held) this.remove(entry, 'purged')
    return all.length + count + held.length
  }

  /**
   * Removes the oldest ready entry, as x-overflow drop-head does at a bound (an adapter applying
   * its own bound to a queue it owns); undefined when none is ready.
   */
  dropHead(): QueueEntry | undefined {
    const entry = this.takeHead()
    if (entry !== undefined) this.remove(entry, 'maxlen')
    return entry
  }

  /** Drops expired entries from the head (TTL expires at the head, as in RabbitMQ); stops at `spare`. */
  override expire(nowMs: number, spare?: QueueEntry): void {
    for (;;) {
      const head = this.ready.peek()
      if (head === undefined || head === spare) return
      if (head.expiresAtMs === undefined || head.expiresAtMs > nowMs) {
        if (head.expiresAtMs !== undefined) this.host.expireAt(this, head.expiresAtMs)
        return
      }
      this.takeHead()
      this.remove(head, 'expired')
    }
  }

  /** Ready entries are removed; handed-out ones die with their channels. */
  override markDeleted(): number {
    const count = this.messageCount
    this.deleted = true
    for (const entry of this.ready.clear()) this.remove(entry, 'deleted')
    // The store deletes the queue's rows with it; held entries only leave memory.
    for (const entry of this.paged?.clear().held ?? []) this.remove(entry, 'deleted')
    this.flow?.stop()
    super.markDeleted()
    return count
  }

  protected override consumerRemovedAt(i: number): void {
    if (this.rr > i) this.rr--
  }

  private nextWithCredit(): QueueConsumer | undefined {
    if (this.policy.singleActiveConsumer) {
      // The first consumer attached is the active one; removeConsumer says who takes over when it leaves.
      const active = this.consumers[0]
      return active?.hasCredit() ? active : undefined
    }
    const n = this.consumers.length
    const priorities = this.priorities
    if (priorities !== undefined && priorities.size > 0) return this.nextByPriority(priorities)
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n
      const c = this.consumers[i] as QueueConsumer
      if (c.hasCredit()) {
        this.rr = (i + 1) % n
        return c
      }
    }
    return undefined
  }

  /** As RabbitMQ: the highest priority with credit gets it (round robin among equals); lower ones only while those are blocked. */
  private nextByPriority(priorities: ReadonlyMap<QueueConsumer, number>): QueueConsumer | undefined {
    const n = this.consumers.length
    let best: QueueConsumer | undefined
    let bestPriority = 0
    let bestIndex = 0
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n
      const c = this.consumers[i] as QueueConsumer
      const p = priorities.get(c) ?? 0
      if ((best === undefined || p > bestPriority) && c.hasCredit()) {
        best = c
        bestPriority = p
        bestIndex = i
      }
    }
    if (best !== undefined) this.rr = (bestIndex + 1) % n
    return best
  }

  /** The ready list's head, taken off it; the list is refilled from what is behind it when it runs low. */
  private takeHead(): QueueEntry | undefined {
    const entry = this.ready.shift()
    const p = this.paged
    if (p !== undefined && p.length > 0 && this.ready.length <= refillBelow(this.memoryBound(this.paging as QueuePaging))) this.refill(p)
    return entry
  }

  /**
   * Ready entries this queue keeps in memory: a queue nobody consumes (an offline MQTT session, an
   * AMQP queue read by basic.get alone) keeps only a short head, as its messages wait for a reader
   * that may not come for days.
   */
  private memoryBound(paging: QueuePaging): number {
    return this.consumers.length === 0 ? paging.idleMemoryMessagesMax : paging.memoryMessagesMax
  }

  /**
   * The queue has no consumer (left, or its returns came back after it): the ready entries past
   * storage.idleQueueMemoryMessagesMax leave memory, as new ones would not have entered it. Without
   * it, a session that went offline with a backlog kept up to queueMemoryMessagesMax in memory for as
   * long as it stayed away. Only a tail of entries whose rows are written and that were never handed
   * out goes (read back, one comes back as it was); the rest stays until a reader takes it.
   */
  private trimToIdleBound(): void {
    const paging = this.paging
    if (paging === null || this.deleted) return
    const excess = this.ready.length - paging.idleMemoryMessagesMax
    if (excess <= 0) return
    const dueNow = this.dueNow
    // Never handed out: no deliveries (a redelivered entry has at least one, restored ones included).
    const released = this.ready.takeTail(excess, e => e.stored && e.deliveries === 0 && e !== dueNow)
    if (released.length > 0) (this.paged ??= new PagedTail()).release(released)
  }

  /** One batch back into the ready list: paged-out entries read from the store, else held ones. */
  private refill(p: PagedTail): void {
    const paging = this.paging as QueuePaging
    p.pageOut()
    const room = Math.min(PAGE_IN_BATCH, Math.max(1, this.memoryBound(paging) - this.ready.length))
    if (p.count > 0) {
      const rows = paging.pager.readEntries(this, p.readSeq, p.lastSeq, room)
      if (rows.length === 0) {
        // Rows the count says are there are not: never expected; the held entries go on from here.
        this.host.pagedEntriesMissing(this, p.count)
        p.forgetPaged()
      } else {
        let bytes = 0
        for (const { seq, message, deliveries } of rows) {
          this.restore(message, seq, seq <= p.redeliveredUpTo, deliveries)
          bytes += message.bodyBytes
        }
        p.readBack((rows[rows.length - 1] as { seq: number }).seq, rows.length, bytes)
        return
      }
    }
    for (let i = 0; i < room; i++) {
      const e = p.takeHeld()
      if (e === undefined) break
      this.ready.push(e)
    }
  }

  private handOut(entry: QueueEntry, consumer: QueueConsumer): void {
    const redelivered = entry.redelivered
    this.takeOut(entry, consumer.noAck, true) // dispatch checked covered()
    consumer.deliver(entry, redelivered)
  }

  private takeOut(entry: QueueEntry, noAck: boolean, covered: boolean): void {
    this.countDelivery(entry)
    this.watermark?.handedOut(entry.seq)
    this.host.entryDelivered(entry, covered)
    if (noAck) {
      this.remove(entry, 'acked')
    } else {
      entry.state = 'unacked'
      this.unackedCount++
    }
  }

  /** Whether the entry may be handed out now: not stored, or below the committed delivered watermark. */
  private covered(entry: QueueEntry): boolean {
    if (!entry.durable) return true
    this.watermark ??= this.newWatermark(0)
    return this.watermark.covers(entry.seq)
  }

  private newWatermark(restoredSeq: number): DeliveredWatermark {
    return new DeliveredWatermark(this, this.host, restoredSeq)
  }

  private remove(entry: QueueEntry, reason: RemovalReason): void {
    entry.state = 'gone'
    this.forgetRedelivery(entry)
    this.host.entryRemoved(entry, reason)
  }
}

/** A stored message's own TTL; an expiration that no longer parses counts as none (it was checked at publish). */
function safeTtl(message: Message): number | undefined {
  try {
    return messageTtlMs(message.properties)
  } catch {
    return undefined
  }
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return Math.min(a, b)
}

/**
 * The ready list is refilled from the store once it is down to this many: four batches at most, so that
 * entries read back are handed out soon after and die young (a list kept near the memory bound held
 * them long enough to be promoted, and the scavenges copying them cost more than the reads).
 */
function refillBelow(memoryMessagesMax: number): number {
  return Math.min(memoryMessagesMax >>> 1, 4 * PAGE_IN_BATCH)
}
