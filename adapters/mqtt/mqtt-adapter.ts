import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes'
import type { Duplex } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import type { ArchiveConfig, MqttConfig, WharfConfig } from '../../edge-config/config-types.ts'
import type { SqliteStore } from '../../core/storage/sqlite-store.ts'
import type { Logger } from '../../core/logger.ts'
import type { Metrics } from '../../core/metrics.ts'
import { verifyPasswordAsync } from '../../core/auth/password-hash.ts'
import { createTopicAcl } from '../../core/auth/topic-acl.ts'
import { SqlitePersistence, sessionQueueName } from './sqlite-persistence.ts'
import { CorePublish } from './core-publish.ts'
import type { MqttSink } from './mqtt-sink.ts'
import { SharedSubscriptions, type SharedMember } from './shared-subscriptions.ts'
import { parseSharedFilter } from './topic-mapping.ts'
import { bindArchives } from './archive-bindings.ts'
import type { Broker } from '../../core/model/broker.ts'
import { OutboundWindow } from './outbound-window.ts'
import { PacketSizeGuard } from './packet-size-guard.ts'
import { invalidTopicReason } from './topic-validation.ts'

export interface MqttAdapterOptions {
  mqtt: MqttConfig
  auth: WharfConfig['auth']
  store: SqliteStore
  /** The core model MQTT publishes are routed through (mqtt.vhost, mqtt.exchange). */
  model: Broker
  /** Config `archive`: topic filters kept in streams on the MQTT exchange. */
  archive: readonly ArchiveConfig[]
  logger: Logger
  metrics: Metrics
}

export interface MqttAdapter {
  readonly broker: Aedes
  /** Serve one MQTT connection (TCP, TLS or a WebSocket stream). */
  handle(conn: Duplex, req?: IncomingMessage): void
  /** Open MQTT connections, counted from accept to close (so also those still before CONNECT). */
  readonly openConnections: number
  connections(): Array<{ clientId: string, clean: boolean, remoteAddress: string | null }>
  /** MQTT sessions as queues, for the admin API: persistent ones hold their offline messages. */
  sessionQueues(): Array<{ name: string, vhost: string, durable: boolean, messages: number, consumers: number, clientId: string }>
  /** The disk watermark: while a reason is set, QoS 1/2 publishes are refused (not acknowledged). */
  setRefusing(reason: string | null): void
  close(): Promise<void>
}

const usernameOf = new WeakMap<Client, string>()

export async function createMqttAdapter (opts: MqttAdapterOptions): Promise<MqttAdapter> {
  const { mqtt, logger, metrics } = opts
  const log = logger.child({ component: 'mqtt' })
  const counters = {
    refusedConnections: metrics.counter('wharf_mqtt_connections_refused_total', 'MQTT connections refused at mqtt.maxConnections'),
    oversize: metrics.counter('wharf_mqtt_oversize_packets_total', 'MQTT connections closed for a packet over mqtt.maxPacketBytes'),
    authFailed: metrics.counter('wharf_mqtt_auth_failures_total', 'MQTT CONNECTs refused for bad credentials or anonymous access'),
    publishDenied: metrics.counter('wharf_mqtt_publish_denied_total', 'MQTT publishes dropped by ACL'),
    subscribeDenied: metrics.counter('wharf_mqtt_subscribe_denied_total', 'MQTT subscriptions refused by ACL (SUBACK 0x80)'),
    clientErrors: metrics.counter('wharf_mqtt_client_errors_total', 'MQTT connections closed for a protocol or I/O error'),
    queueOverflow: metrics.counter('wharf_mqtt_queue_overflow_total', 'Messages dropped at mqtt.maxQueuedMessages / maxQueuedBytes'),
    published: metrics.counter('wharf_mqtt_messages_published_total', 'MQTT PUBLISH packets accepted from clients'),
    refused: metrics.counter('wharf_mqtt_publish_refused_total', 'MQTT QoS 1/2 publishes refused (not acknowledged) at the disk watermark')
  }
  const vhost = opts.model.vhost(mqtt.vhost)
  if (vhost === undefined) throw new Error(`mqtt: vhost '${mqtt.vhost}' (mqtt.vhost) does not exist; configured vhosts: ${[...opts.model.vhosts.keys()].join(', ')}`)
  if (vhost.exchangeNamed(mqtt.exchange) === undefined) {
    await vhost.declareExchange({ name: mqtt.exchange, type: 'topic', durable: true, autoDelete: false, internal: false, arguments: {} }, false)
  }
  let refusing: string | null = null
  let sinkOf: () => MqttSink | undefined = () => undefined // set once aedes is built (CorePublish wraps it)

  const onOverflow = (clientId: string): void => {
    counters.queueOverflow.inc()
    log.warn('queue limit reached, message dropped', { clientId, policy: mqtt.queueOverflow })
  }
  const persistence = new SqlitePersistence(opts.store, {
    maxQueuedMessages: mqtt.maxQueuedMessages,
    maxQueuedBytes: mqtt.maxQueuedBytes,
    queueOverflow: mqtt.queueOverflow,
    onOverflow,
    storedMessageOf: payload => sinkOf()?.messageOfBody(payload)
  })
  const acl = createTopicAcl(opts.auth)
  const usersByName = new Map(opts.auth.users.map(u => [u.username, u]))

  const broker = await Aedes.createBroker({
    persistence,
    maxClientsIdLength: mqtt.maxClientIdLength,
    connectTimeout: mqtt.connectTimeoutSeconds * 1000,
    preConnect (client, _packet, done) {
      window.attach(client)
      done(null, true)
    },
    authenticate (client, username, password, done) {
      if (username === undefined || username === null || username === '') {
        if (opts.auth.allowAnonymous) { done(null, true); return }
        counters.authFailed.inc()
        log.warn('anonymous connect refused', { clientId: client.id })
        done(Object.assign(new Error('anonymous access is disabled'), { returnCode: 5 }), false)
        return
      }
      const user = usersByName.get(username)
      const verified = user && password ? verifyPasswordAsync(password.toString('utf8'), user.passwordHash) : Promise.resolve(false)
      void verified.then(ok => {
        if (!ok) {
          counters.authFailed.inc()
          log.warn('bad username or password', { clientId: client.id, username })
          done(Object.assign(new Error('bad username or password'), { returnCode: 4 }), false)
          return
        }
        usernameOf.set(client, username)
        done(null, true)
      })
    },
    authorizePublish (client, packet, done) {
      const reason = invalidTopicReason(packet.topic)
      if (reason) { done(new Error(`publish to "${packet.topic}": ${reason}`)); return }
      if (client === null) { corePublish.commitBeforeAck(packet, client, done); return }
      if (packet.topic.startsWith('$')) {
        // $SYS is the broker's; $share/... names a subscription, not a topic [MQTT-4.7.2-1].
        counters.publishDenied.inc()
        log.warn('publish to a $ topic dropped', { clientId: client.id, topic: packet.topic })
        corePublish.drop(packet, done)
        return
      }
      if (refusing !== null && packet.qos > 0) {
        // Not acknowledged: the connection closes without PUBACK/PUBREC, and the client resends later.
        counters.refused.inc()
        log.warn('publish refused: ' + refusing, { clientId: client.id, topic: packet.topic, qos: packet.qos })
        done(new Error(`publish refused: ${refusing}`))
        return
      }
      if (!acl.canPublish(usernameOf.get(client) ?? null, client.id, packet.topic)) {
        counters.publishDenied.inc()
        log.warn('publish denied by ACL, dropped', { clientId: client.id, username: usernameOf.get(client), topic: packet.topic })
        corePublish.drop(packet, done)
        return
      }
      counters.published.inc()
      corePublish.commitBeforeAck(packet, client, done)
    },
    authorizeSubscribe (client, sub: Subscription, done) {
      const reason = invalidTopicReason(sub.topic)
      if (reason) { done(new Error(`subscribe to "${sub.topic}": ${reason}`), null); return }
      if (!acl.canSubscribe(usernameOf.get(client) ?? null, client.id, sub.topic)) {
        counters.subscribeDenied.inc()
        log.warn('subscribe denied by ACL', { clientId: client.id, username: usernameOf.get(client), filter: sub.topic })
        done(null, null) // SUBACK 0x80, [MQTT-3.9.3]
        return
      }
      const shared = parseSharedFilter(sub.topic)
      if (shared === null) {
        corePublish.sink.add(client.id, sub.topic) // bound before the SUBACK: nothing published after it is missed
        done(null, sub)
        return
      }
      sharedSubs.prepare(shared).then(() => done(null, sub), err => {
        log.warn('shared subscription refused', { clientId: client.id, filter: sub.topic, reason: (err as Error).message })
        done(null, null)
      })
    }
  })
  const corePublish = new CorePublish(broker, vhost, mqtt.exchange, () => opts.model.nowMs)
  sinkOf = () => corePublish.sink
  const sharedSubs = new SharedSubscriptions(vhost, mqtt.exchange, mqtt.maxInflightMessages, log)
  persistence.setExternalDeliveries(sharedSubs)
  // Persistent sessions' subscriptions route from the start, also while their clients are away.
  for (const { clientId, topic } of persistence.storedSubscriptions()) {
    const shared = parseSharedFilter(topic)
    if (shared === null) corePublish.sink.add(clientId, topic)
    else await sharedSubs.prepare(shared)
  }
  await bindArchives(vhost, mqtt.exchange, opts.archive)
  broker.on('subscribe', (subs: Subscription[], client: Client) => {
    for (const sub of subs) {
      if ((sub.qos as number) !== 128) sharedSubs.attach(client as unknown as SharedMember, sub.topic, sub.qos)
    }
  })
  broker.on('unsubscribe', (filters: string[], client: Client) => {
    for (const filter of filters) {
      corePublish.sink.remove(client.id, filter)
      sharedSubs.detach(client as unknown as SharedMember, filter)
    }
  })
  broker.on('clientReady', (client: Client) => {
    if (client.clean) return
    // A restored session consumes from its shared groups again.
    void persistence.subscriptionsByClient(client).then(subs => {
      for (const sub of subs) sharedSubs.attach(client as unknown as SharedMember, sub.topic, sub.qos)
    })
  })
  broker.on('clientDisconnect', (client: Client) => {
    sharedSubs.detachClient(client as unknown as SharedMember)
    if (client.clean) corePublish.sink.removeClient(client.id)
  })
  const window = new OutboundWindow({
    maxInflightMessages: mqtt.maxInflightMessages,
    maxQueuedMessages: mqtt.maxQueuedMessages,
    queueOverflow: mqtt.queueOverflow,
    onOverflow
  })

  broker.on('clientError', (client: Client, err: Error) => {
    counters.clientErrors.inc()
    log.warn('client connection closed on error', { clientId: client.id, reason: err.message })
  })
  broker.on('connectionError', (client: Client, err: Error) => {
    counters.clientErrors.inc()
    log.warn('connection error before CONNECT', { clientId: client?.id, reason: err.message })
  })
  metrics.gauge('wharf_mqtt_clients_connected', 'Connected MQTT clients', () => broker.connectedClients)

  let open = 0
  metrics.gauge('wharf_mqtt_connections_open', 'Open MQTT connections (TCP, TLS and WebSocket)', () => open)

  return {
    broker,
    get openConnections () { return open },
    connections () {
      const clients = (broker as unknown as { clients: Record<string, Client & { conn?: { remoteAddress?: string } }> }).clients
      return Object.values(clients).map(c => ({ clientId: c.id, clean: c.clean, remoteAddress: c.conn?.remoteAddress ?? null }))
    },
    sessionQueues () {
      const connected = (broker as unknown as { clients: Record<string, Client> }).clients
      const sessions = new Map<string, boolean>() // client id -> durable (clean=false)
      for (const { clientId } of persistence.storedSubscriptions()) sessions.set(clientId, true)
      for (const c of Object.values(connected)) sessions.set(c.id, !c.clean)
      return [...sessions].map(([clientId, durable]) => ({
        name: sessionQueueName(clientId),
        vhost: mqtt.vhost,
        durable,
        messages: durable ? persistence.queueDepth(clientId).messages : 0,
        consumers: connected[clientId] === undefined ? 0 : 1,
        clientId
      }))
    },
    setRefusing (reason) {
      if (reason !== refusing) log.warn(reason === null ? 'publishing accepted again' : 'refusing QoS 1/2 publishes: ' + reason)
      refusing = reason
    },
    handle (conn, req) {
      if (open >= mqtt.maxConnections) {
        counters.refusedConnections.inc()
        log.warn('connection refused: mqtt.maxConnections reached', { maxConnections: mqtt.maxConnections })
        conn.destroy()
        return
      }
      open++
      conn.once('close', () => { open-- })
      coalesceWrites(conn)
      guardPacketSize(conn, mqtt.maxPacketBytes, reason => {
        counters.oversize.inc()
        log.warn('connection closed: ' + reason)
      })
      broker.handle(conn, req)
    },
    async close () {
      await new Promise<void>(resolve => broker.close(() => resolve()))
      // aedes does not destroy its persistence; ours writes the in-memory QoS 1 packet ids then.
      await persistence.destroy()
    }
  }
}

// aedes pulls bytes with conn.read(null) and parses them at once, so the size guard sits on that
// call: an oversize packet is refused from its fixed header, before its body is buffered.
function guardPacketSize (conn: Duplex, maxPacketBytes: number, onRefuse: (reason: string) => void): void {
  const guard = new PacketSizeGuard(maxPacketBytes)
  const read = conn.read.bind(conn)
  conn.read = (size?: number) => {
    const chunk = read(size) as Buffer | null
    if (chunk === null) return null
    const refused = guard.feed(chunk)
    if (refused === null) return chunk
    onRefuse(refused)
    conn.destroy()
    return null
  }
}

// aedes writes every packet (each PUBACK, each delivery) with its own conn.write: one syscall
// each on a socket. Writes are corked and leave together in one writev. Under load (the last
// flush held several packets) the flush waits for the end of the loop turn, gathering the
// deliveries aedes makes from setImmediate; a lone packet is flushed at the end of the current
// tick so a quiet connection gets no added latency.
function coalesceWrites (conn: Duplex): void {
  let corked = false
  let writes = 0
  let lastFlushWrites = 0
  const uncork = (): void => {
    corked = false
    lastFlushWrites = writes
    writes = 0
    conn.uncork()
  }
  const write = conn.write
  conn.write = function (this: Duplex, ...args: Parameters<Duplex['write']>) {
    if (!corked) {
      corked = true
      conn.cork()
      if (lastFlushWrites > 1) setImmediate(uncork)
      else process.nextTick(uncork)
    }
    writes++
    return write.apply(this, args)
  } as Duplex['write']
}

export type { PublishPacket }
