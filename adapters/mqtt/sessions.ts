// The MQTT sessions of the engine's vhost: created, resumed or taken over at CONNECT, released at
// disconnect (will, expiry), ended at expiry or clean start, and restored at start-up, where a
// session whose expiry passed while the broker was down is ended before anyone can resume it.
import type { Engine } from './engine.ts'
import type { MqttConnection } from './connection.ts'
import { MqttSession, ADAPTER_OWNER } from './session.ts'
import type { SessionStore, SharedSubscriptionRecord, WillRecord } from './session-store.ts'
import { SharedMembership } from './shared-subscriptions.ts'
import { RestoredDeliveries } from './restored-deliveries.ts'
import { mqttToCoreMessage } from './properties.ts'
import { parseSharedFilter, sessionQueueName } from './topic-grammar.ts'
import { ReasonCode } from './codec/reason-codes.ts'

/** setTimeout holds at most 2^31-1 ms; longer expiries are re-armed when they come due. */
const TIMER_MAX_MS = 2 ** 31 - 1

export class Sessions {
  private readonly byClient = new Map<string, MqttSession>()
  /** The CONNECT of a client id being accepted (session opened, connection not yet attached). */
  private readonly accepting = new Map<string, Promise<void>>()
  /** Wills of connections that were open when the broker stopped: published at start. */
  private readonly orphanWills = new Map<string, WillRecord>()
  /** Shared groups' QoS 2 deliveries from before the restart, until their entries come out of the groups. */
  readonly restored = new RestoredDeliveries()

  constructor(
    private readonly engine: Engine,
    readonly store: SessionStore
  ) {}

  get size(): number {
    return this.byClient.size
  }
  get(clientId: string): MqttSession | undefined {
    return this.byClient.get(clientId)
  }
  values(): IterableIterator<MqttSession> {
    return this.byClient.values()
  }

  /** Every session, without an iterator result each (for loops that timers run over all of them). */
  forEach(visit: (session: MqttSession) => void): void {
    this.byClient.forEach(visit)
  }

  /**
   * CONNECT accepted: the client's session, new or resumed. A connected client with the same id is
   * disconnected first (0x8E) [MQTT-3.1.4-3]; clean start ends the old session [MQTT-3.1.2-4].
   */
  async open(conn: MqttConnection, cleanStart: boolean, expirySeconds: number | null): Promise<{ session: MqttSession; present: boolean }> {
    const clientId = conn.clientId
    let session = this.byClient.get(clientId)
    if (session?.queue.deleted === true) {
      // deleted over AMQP or the admin API while the client was away
      await this.end(session, 'session queue deleted')
      session = undefined
    }
    if (session?.conn != null) {
      ;(session.conn as MqttConnection).disconnect(ReasonCode.SessionTakenOver, 'session taken over by a new connection')
      session = this.byClient.get(clientId) // an expiry-0 session ended with its connection
    }
    if (session !== undefined && cleanStart) {
      await this.end(session, 'clean start')
      session = undefined
    }
    const present = session !== undefined
    if (session === undefined) session = await this.create(clientId, expirySeconds)
    else this.cancelTimers(session)
    session.expirySeconds = expirySeconds
    if (session.durable) await this.persist(session, null)
    return { session, present }
  }

  /**
   * Runs `accept` for one CONNECT of a client id at a time, from opening its session to attaching the
   * connection: a second CONNECT then finds the first one connected and takes it over [MQTT-3.1.4-3]
   * instead of both attaching to one session.
   */
  async oneAtATime(clientId: string, accept: () => Promise<void>): Promise<void> {
    const before = this.accepting.get(clientId)
    const run = before === undefined ? accept() : before.then(accept)
    const done = run.catch(() => {})
    this.accepting.set(clientId, done)
    try {
      await run
    } finally {
      if (this.accepting.get(clientId) === done) this.accepting.delete(clientId)
    }
  }

  /**
   * The client went away before its CONNACK: the session is left as a disconnect leaves it (expiry),
   * without a will: this CONNECT's never took effect, and an older pending one was void once this
   * connection came [MQTT-3.1.3-9].
   */
  abandoned(session: MqttSession): void {
    if (session.conn !== null || session.ended) return
    session.will = undefined
    void this.store.deleteWill(session.clientId).catch(() => {})
    this.startExpiry(session)
  }

  /** A detached session that never expires (a first-version session being imported). */
  async createStored(clientId: string): Promise<MqttSession> {
    return await this.create(clientId, null)
  }

  /** $share memberships of a session without a connection (they consume when it attaches). */
  adoptShared(session: MqttSession, shared: readonly SharedSubscriptionRecord[]): void {
    for (const s of shared) {
      const parsed = parseSharedFilter(s.filter)
      if (parsed === null || typeof parsed === 'string') continue
      session.shared.set(s.filter, new SharedMembership(session, this.engine.vhost, s.filter, parsed, s.qos, s.subscriptionId, s.retainAsPublished === true))
    }
  }

  private sessionArgs: Readonly<Record<string, unknown>> | undefined

  /** One frozen arguments object for every session queue (the model then shares one policy). */
  private queueArguments(): Readonly<Record<string, unknown>> {
    if (this.sessionArgs !== undefined) return this.sessionArgs
    const { config } = this.engine
    const args: Record<string, unknown> = { 'x-wharf-idle-bounds': true, 'x-overflow': config.queueOverflow === 'drop-newest' ? 'reject-publish' : 'drop-head' }
    if (config.maxQueuedMessages > 0) args['x-max-length'] = config.maxQueuedMessages
    if (config.maxQueuedBytes > 0) args['x-max-length-bytes'] = config.maxQueuedBytes
    this.sessionArgs = Object.freeze(args)
    return this.sessionArgs
  }

  private async create(clientId: string, expirySeconds: number | null): Promise<MqttSession> {
    const { vhost } = this.engine
    const name = sessionQueueName(clientId)
    const args = this.queueArguments()
    const old = vhost.queueNamed(name)
    if (old !== undefined) await vhost.deleteQueue(name, { ifUnused: false, ifEmpty: false }, ADAPTER_OWNER) // a leftover without its session row
    const durable = expirySeconds !== 0
    // The session row first: a stored queue always has its row (start-up adopts nothing else).
    if (durable) await this.store.putSession(clientId, expirySeconds, null, [])
    const queue = await vhost.declareQueue({ name, durable, exclusive: false, autoDelete: false, arguments: args }, ADAPTER_OWNER, false, true)
    const session = new MqttSession(clientId, queue, expirySeconds, this.engine)
    this.byClient.set(clientId, session)
    return session
  }

  /** The network connection is gone: the will (after its delay), then expiry [MQTT-3.1.2-8]. */
  connectionLost(conn: MqttConnection): void {
    const session = conn.session
    if (session === null || session.conn !== conn) return
    session.detach()
    if (conn.gracefulDisconnect) {
      if (session.will !== undefined) {
        session.will = undefined
        void this.store.deleteWill(conn.clientId).catch(() => {})
      }
    } else if (session.will !== undefined) {
      const delayMs = session.will.delaySeconds * 1000
      const expiryMs = session.expirySeconds === null ? Infinity : session.expirySeconds * 1000
      if (Math.min(delayMs, expiryMs) === 0) this.publishWill(session)
      else if (delayMs < expiryMs) session.willTimer = setTimeout(() => this.publishWill(session), delayMs).unref()
      // else: the will goes when the session ends [MQTT-3.1.3-9]
    }
    this.startExpiry(session)
  }

  /** No connection: the session ends now (expiry 0) or when its expiry passes [MQTT-4.1.0-2]. */
  private startExpiry(session: MqttSession): void {
    const { engine } = this
    if (session.expirySeconds === 0 || session.queue.deleted) {
      void this.end(session, session.queue.deleted ? 'session queue deleted' : 'session expiry 0')
      return
    }
    const expiresAtMs = session.expirySeconds === null ? null : engine.nowMs() + session.expirySeconds * 1000
    if (session.durable)
      void this.persist(session, expiresAtMs).catch(err => engine.log.error('mqtt: store session expiry failed', { clientId: session.clientId, err }))
    if (expiresAtMs !== null) this.armExpiry(session, expiresAtMs)
  }

  private armExpiry(session: MqttSession, atMs: number): void {
    const delay = Math.max(0, atMs - this.engine.nowMs())
    session.expiryTimer = setTimeout(
      () => {
        if (delay > TIMER_MAX_MS) {
          this.armExpiry(session, atMs)
          return
        }
        void this.end(session, 'session expired')
      },
      Math.min(delay, TIMER_MAX_MS)
    ).unref()
  }

  private cancelTimers(session: MqttSession): void {
    if (session.willTimer !== undefined) {
      clearTimeout(session.willTimer)
      session.willTimer = undefined
    }
    if (session.expiryTimer !== undefined) {
      clearTimeout(session.expiryTimer)
      session.expiryTimer = undefined
    }
  }

  /** The session ends: its pending will goes, its queue (and bindings) and rows are deleted. */
  async end(session: MqttSession, why: string): Promise<void> {
    if (session.ended) return
    session.ended = true
    this.cancelTimers(session)
    if (session.will !== undefined && session.conn === null) this.publishWill(session)
    session.detach()
    for (const m of session.sharedList) m.detach('connection-lost')
    session.releaseShared()
    if (this.byClient.get(session.clientId) === session) this.byClient.delete(session.clientId)
    this.engine.log.debug('mqtt session ended', { clientId: session.clientId, why })
    // A queue deleted from outside may already have a successor of the same name: that one stays.
    const writes: Array<Promise<unknown>> = session.queue.deleted
      ? []
      : [this.engine.vhost.deleteQueue(session.queue.name, { ifUnused: false, ifEmpty: false }, ADAPTER_OWNER)]
    if (session.durable) writes.push(this.store.deleteSession(session.clientId))
    await Promise.all(writes)
  }

  publishWill(session: MqttSession): void {
    const will = session.will
    if (will === undefined) return
    session.will = undefined
    if (session.willTimer !== undefined) {
      clearTimeout(session.willTimer)
      session.willTimer = undefined
    }
    this.sendWill(session.clientId, will)
  }

  /** The will of a connection the broker's stop cut (no session to wait for). */
  publishCutWill(clientId: string, will: WillRecord): void {
    this.sendWill(clientId, will)
  }

  private sendWill(clientId: string, will: WillRecord): void {
    const { engine } = this
    const message = mqttToCoreMessage(will, engine.exchange, engine.nowMs())
    try {
      const result = engine.publish(message)
      const done = (): void => {
        void this.store.deleteWill(clientId).catch(() => {})
      }
      if (result.stored === undefined) done()
      else result.stored.then(done, err => engine.log.error('mqtt: will store failed', { clientId, err }))
    } catch (err) {
      engine.log.warn('mqtt: will not published', { clientId, topic: will.topic, reason: (err as Error).message })
    }
  }

  async persist(session: MqttSession, expiresAtMs: number | null): Promise<void> {
    await this.store.putSession(session.clientId, session.expirySeconds, expiresAtMs, session.sharedRecords())
  }

  /** Start-up: sessions from the store; expired ones end now; wills of connections cut by the stop are published. */
  async restore(): Promise<void> {
    const { engine } = this
    const now = engine.nowMs()
    const wills = this.store.loadWills()
    const qos2 = this.store.loadQos2()
    const pubrels = this.store.loadPubrels()
    const outboundIds = this.store.loadOutboundIds()
    const rows = this.store.loadSessions()
    const known = new Set<string>()
    for (const row of rows) {
      known.add(row.clientId)
      const queue = engine.vhost.queueNamed(sessionQueueName(row.clientId))
      if (queue === undefined) {
        await this.store.deleteSession(row.clientId)
        continue
      }
      const session = new MqttSession(row.clientId, queue, row.expirySeconds, engine, qos2.get(row.clientId))
      session.restoreSubscriptions()
      session.restorePubrels(pubrels.get(row.clientId) ?? [])
      this.adoptShared(session, row.shared)
      this.byClient.set(row.clientId, session)
      const will = wills.get(row.clientId)
      if (will !== undefined) session.will = will
      // A session connected when the broker stopped starts its expiry now.
      const expiresAtMs = row.expiresAtMs ?? (row.expirySeconds === null ? null : now + row.expirySeconds * 1000)
      if (expiresAtMs !== null && expiresAtMs <= now) {
        await this.end(session, 'expired while the broker was down')
        continue
      }
      if (will !== undefined) {
        const delayMs = will.delaySeconds * 1000
        if (delayMs === 0) this.publishWill(session)
        else session.willTimer = setTimeout(() => this.publishWill(session), delayMs).unref()
      }
      if (expiresAtMs !== null) {
        this.armExpiry(session, expiresAtMs)
        if (row.expiresAtMs === null) await this.persist(session, expiresAtMs)
      }
    }
    // After the sessions (and their PUBRELs): an ended session's deliveries go to nobody.
    const gone = this.restored.restore(outboundIds, engine.vhost, clientId => this.byClient.get(clientId))
    if (gone.length > 0) await this.store.deleteOutboundIds(gone)
    // Clean sessions keep no row, but their wills are stored: those connections were cut by the stop.
    for (const [clientId, will] of wills) if (!known.has(clientId)) this.orphanWills.set(clientId, will)
    for (const [clientId, will] of this.orphanWills) this.sendWill(clientId, will)
    this.orphanWills.clear()
  }

  /** Shutdown: timers stop; sessions stay stored as they are. */
  close(): void {
    for (const s of this.byClient.values()) this.cancelTimers(s)
  }
}
