import { Readable } from 'node:stream'
import type { SqliteStore } from '../../core/storage/sqlite-store.ts'
import { systemClock, type Clock } from '../../core/clock.ts'
import type { InPacket, PublishPacket } from './persistence/packet-codec.ts'
import { IncomingStore } from './persistence/incoming-store.ts'
import { RetainedStore } from './persistence/retained-store.ts'
import { SessionQueues, type StoredMessageLookup, type Dropped, type OutgoingPacket, type PacketRef, type QueueOverflow, type QueueTarget } from './persistence/session-queues.ts'
import { SubscriptionIndex, type SubscriptionIn, type TopicSubscription } from './persistence/subscription-index.ts'
import { WillStore, type WillPacket } from './persistence/will-store.ts'

export type { QueueOverflow, Dropped, OutgoingPacket, QueueTarget } from './persistence/session-queues.ts'
export type { InPacket, PublishPacket, PubrelPacket } from './persistence/packet-codec.ts'
export { sessionQueueName } from './persistence/session-queues.ts'

export interface SqlitePersistenceOptions {
  /** Entries per session queue (queued and in flight) before queueOverflow applies. */
  maxQueuedMessages: number
  /** Payload bytes per session queue before queueOverflow applies. */
  maxQueuedBytes: number
  /** drop-oldest: drop the oldest entry not yet handed to the client; drop-newest: do not queue the new message. */
  queueOverflow: QueueOverflow
  /** Called once per dropped message, after the change is committed. */
  onOverflow?: (clientId: string, dropped: Dropped) => void
  clock?: Clock
  /**
   * The core message a publish's payload belongs to, when core routed it here: a session queue then
   * references core's stored row instead of storing the payload a second time.
   */
  storedMessageOf?: StoredMessageLookup
}

export interface PersistenceStats {
  overflowDropped: number
  overflowDroppedOldest: number
  overflowDroppedNewest: number
  updateMisses: number
  unawaitedWriteErrors: number
  queuedMessages: number
  queuedBytes: number
  subscriptions: number
  sessionsWithSubscriptions: number
  retained: number
}

/**
 * Deliveries aedes makes for packets that another part of the adapter owns: shared subscriptions,
 * whose messages live in a core queue and are settled there, not in the session queue.
 */
export interface ExternalDeliveries {
  owns (clientId: string, messageId: number | undefined): boolean
  /** Settles the delivery; false when it is not an external one. */
  settle (clientId: string, messageId: number | undefined): boolean
}

/** What aedes passes as the broker to setup(): its id and message counter. */
interface BrokerRef { id: string, counter: number }
interface ClientRef { id: string }

/**
 * aedes 1.x persistence on Wharf's SQLite store: sessions, offline queues, retained messages,
 * wills and inbound QoS 2 state live in the node's one database file. Same methods and semantics
 * as aedes-persistence's memory store (its abstract suite is the contract), except where noted at
 * the method. Every change resolves after its commit; reads on the publish path (subscription
 * matching, queue limits) are answered from memory rebuilt in setup().
 */
export class SqlitePersistence {
  private brokerRef: BrokerRef | undefined
  private loaded = false
  private destroyed = false
  private readonly subscriptions: SubscriptionIndex
  private readonly retained: RetainedStore
  private readonly queues: SessionQueues
  private readonly incoming: IncomingStore
  private readonly wills: WillStore
  private external: ExternalDeliveries | undefined

  constructor (private readonly store: SqliteStore, opts: SqlitePersistenceOptions) {
    for (const key of ['maxQueuedMessages', 'maxQueuedBytes'] as const) {
      if (!Number.isInteger(opts[key]) || opts[key] < 0) throw new RangeError(`mqtt persistence: ${key} must be an integer >= 0, got ${opts[key]}`)
    }
    const nowMs = (): number => (opts.clock ?? systemClock).nowMs()
    const onOverflow = opts.onOverflow ?? (() => {})
    this.subscriptions = new SubscriptionIndex(store)
    this.retained = new RetainedStore(store, nowMs)
    this.queues = new SessionQueues(store, opts, nowMs, onOverflow, opts.storedMessageOf)
    this.incoming = new IncomingStore(store, nowMs)
    this.wills = new WillStore(store, nowMs)
  }

  /** The broker given to setup() (the contract suite reads it). */
  get broker (): BrokerRef {
    if (this.brokerRef === undefined) throw new Error('mqtt persistence: setup() not called')
    return this.brokerRef
  }

  async setup (broker: BrokerRef): Promise<void> {
    this.brokerRef = broker
    if (this.loaded) return
    this.loaded = true
    this.subscriptions.load()
    this.retained.load()
    const storedCounter = this.queues.load(broker.id)
    // aedes names a queued message (brokerId, brokerCounter) and starts counting at 0. With a broker
    // id that survives restarts, count on from the stored messages so no name is given twice.
    if (typeof broker.counter === 'number' && broker.counter < storedCounter) broker.counter = storedCounter
  }

  // --- retained --------------------------------------------------------------------------------

  async storeRetained (packet: InPacket): Promise<void> {
    await this.retained.put(packet)
  }

  createRetainedStream (pattern: string): Readable {
    return this.retained.stream([pattern])
  }

  createRetainedStreamCombi (patterns: string[]): Readable {
    return this.retained.stream(patterns)
  }

  // --- subscriptions of persistent sessions ----------------------------------------------------

  async addSubscriptions (client: ClientRef, subs: SubscriptionIn[]): Promise<void> {
    await this.subscriptions.add(client.id, subs)
  }

  async removeSubscriptions (client: ClientRef, topics: string[]): Promise<void> {
    await this.subscriptions.remove(client.id, topics)
  }

  async subscriptionsByClient (client: ClientRef): Promise<Array<SubscriptionIn & { topic: string }>> {
    return this.subscriptions.byClientId(client.id)
  }

  async countOffline (): Promise<{ subsCount: number, clientsCount: number }> {
    return this.subscriptions.count()
  }

  async subscriptionsByTopic (topic: string): Promise<TopicSubscription[]> {
    return this.subscriptions.byTopic(topic)
  }

  async cleanSubscriptions (client: ClientRef): Promise<void> {
    await this.subscriptions.clean(client.id)
  }

  getClientList (topic: string): Readable {
    return Readable.from(this.subscriptions.clientsWithFilter(topic))
  }

  // --- outgoing: session queues ----------------------------------------------------------------

  async outgoingEnqueue (sub: QueueTarget, packet: InPacket): Promise<void> {
    await this.queues.enqueue([sub], packet)
  }

  /** aedes awaits this on the publish path (before the PUBACK, via DurablePublish). */
  async outgoingEnqueueCombi (subs: QueueTarget[], packet: InPacket): Promise<void> {
    await this.queues.enqueue(subs, packet)
  }

  /**
   * A packet id assigned (publish) or PUBREC received (pubrel). Resolves for a QoS 1 publish before
   * the commit (see SessionQueues.update). An entry that is not there — dropped at the queue limit
   * while the client was online — is counted, not an error: the memory store's error would make
   * aedes close the client's connection.
   */
  async outgoingUpdate (client: ClientRef, packet: PacketRef): Promise<void> {
    if (this.external?.owns(client.id, packet.messageId) === true) return
    await this.queues.update(client.id, packet)
  }

  async outgoingClearMessageId (client: ClientRef, packet: PacketRef): Promise<OutgoingPacket | undefined> {
    if (this.external?.settle(client.id, packet.messageId) === true) return undefined
    return await this.queues.clear(client.id, packet)
  }

  /** Hooks for deliveries settled outside the session queues (see ExternalDeliveries). */
  setExternalDeliveries (hooks: ExternalDeliveries): void {
    this.external = hooks
  }

  /** Every stored subscription of every persistent session. */
  storedSubscriptions (): Array<{ clientId: string, topic: string, qos: number }> {
    return [...this.subscriptions.all()]
  }

  outgoingStream (client: ClientRef): Readable {
    return this.queues.stream(client.id)
  }

  /** Queued and in-flight entries of one session, from memory. */
  queueDepth (clientId: string): { messages: number, bytes: number } {
    return this.queues.depth(clientId)
  }

  // --- incoming QoS 2 --------------------------------------------------------------------------

  async incomingStorePacket (client: ClientRef, packet: InPacket): Promise<void> {
    await this.incoming.put(client.id, packet)
  }

  async incomingGetPacket (client: ClientRef, packet: { messageId?: number | undefined }): Promise<PublishPacket> {
    return await this.incoming.get(client.id, packet.messageId as number)
  }

  async incomingDelPacket (client: ClientRef, packet: { messageId?: number | undefined }): Promise<void> {
    await this.incoming.delete(client.id, packet.messageId as number)
  }

  async cleanIncoming (client: ClientRef): Promise<void> {
    await this.incoming.clean(client.id)
  }

  // --- wills -----------------------------------------------------------------------------------

  /** As the memory store, stamps the packet itself with brokerId and clientId. */
  async putWill (client: ClientRef, packet: InPacket): Promise<void> {
    packet.brokerId = this.broker.id
    packet.clientId = client.id
    await this.wills.put(client.id, packet)
  }

  async getWill (client: ClientRef): Promise<WillPacket | undefined> {
    return await this.wills.get(client.id)
  }

  async delWill (client: ClientRef): Promise<WillPacket | undefined> {
    return await this.wills.delete(client.id)
  }

  streamWill (brokers: Record<string, unknown> = {}): Readable {
    return this.wills.stream(brokers)
  }

  // --- lifecycle -------------------------------------------------------------------------------

  stats (): PersistenceStats {
    const { subsCount, clientsCount } = this.subscriptions.count()
    return {
      ...this.queues.counters,
      queuedMessages: this.queues.totalMessages,
      queuedBytes: this.queues.totalBytes,
      subscriptions: subsCount,
      sessionsWithSubscriptions: clientsCount,
      retained: this.retained.size
    }
  }

  /** Waits for this persistence's writes to commit. The store stays open: the gateway owns it. */
  async destroy (): Promise<void> {
    if (this.destroyed) throw new Error('mqtt persistence: destroy called twice')
    this.destroyed = true
    await this.store.write(() => {}).catch(() => {}) // a closed store has nothing pending
  }
}
