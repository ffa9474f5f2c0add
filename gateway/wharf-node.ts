import type { Server } from 'node:net'
import { access } from 'node:fs/promises'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { WharfConfig } from '../edge-config/config-types.ts'
import { bindAddresses } from '../edge-config/bind-addresses.ts'
import type { Logger } from '../core/logger.ts'
import { Metrics } from '../core/metrics.ts'
import { SqliteStore } from '../core/storage/sqlite-store.ts'
import { createMqttAdapter } from '../adapters/mqtt/mqtt-adapter.ts'
import { createAmqpAdapter, type AmqpAdapter } from '../adapters/amqp/amqp-adapter.ts'
import { amqpPropertiesCodec } from '../adapters/amqp/properties-codec.ts'
import { Broker } from '../core/model/broker.ts'
import { SqliteDurableStore } from '../core/model/sqlite/sqlite-durable-store.ts'
import { registerModelMetrics } from '../core/model/model-metrics.ts'
import { SqliteStreamStore, streamReadDefaults } from '../core/streams/sqlite-stream-store.ts'
import { systemClock } from '../core/clock.ts'
import { adminRequestHandler } from './admin-http.ts'
import { liveRoutes } from './live-page-routes.ts'
import { managementApiOf, managementContext } from './management-wiring.ts'
import { consoleRoutes } from './console-page-routes.ts'
import { sqliteStoredBytes } from '../core/storage/disk-watermark.ts'
import { startTiering } from './tiering-wiring.ts'
import { watchDisk } from './disk-wiring.ts'
import { watchHeap } from './memory-wiring.ts'
import { listen, closeServer } from './listen.ts'
import { OpenedResources } from './opened-resources.ts'
import { checkObjectStore } from './object-store-check.ts'
import { lockDataDir } from '../core/storage/data-dir-lock.ts'
import { wharfVersion } from './version.ts'
import { loadScramServerSecret } from './scram-secret.ts'
import { loadNodeId } from './node-id.ts'
import { PublishGate } from './publish-gate.ts'
import { startBridges } from '../adapters/bridge/bridges.ts'
import { DownlinkGate } from '../adapters/bridge/downlink-gate.ts'
import { PasswordVerifier } from '../core/auth/password-verifier.ts'
import { AbuseLimits } from '../core/limits/abuse-limits.ts'
import { ObjectLimitsStore } from '../core/limits/object-limits-store.ts'
import { SourceIpRate } from '../core/limits/source-ip-rate.ts'
import { RateLimitedLog } from '../core/rate-limited-log.ts'
import { CertificateReloader, tlsEnabled, tlsServerOptions, type ReloadOutcome } from './tls-options.ts'
import { ConnectionGate } from './connection-gate.ts'
import { startProtocolListeners, type ProtocolPorts } from './protocol-listeners.ts'
import { openAccess, warnAnonymousExposure, wireVhosts } from './access-wiring.ts'
import { accessRoutes } from './admin-access-routes.ts'
import type { AccessControl } from '../core/auth/access-control.ts'
import { UsageMeter } from '../core/metering/usage-meter.ts'
import { commitObserver, registerNodeMetrics, registerStoreMetrics } from './node-metrics.ts'
import { startRateSampling } from './management/rate-sampling.ts'
import { startOps, type Ops } from './ops-wiring.ts'
import { opsRoutes } from './ops-routes.ts'
import { lowerBackgroundThreads } from './background-threads.ts'

export interface BoundPorts extends ProtocolPorts {
  admin: number
  adminTls?: number
}

export interface WharfNode {
  readonly ports: BoundPorts
  readonly metrics: Metrics
  /** Messages and bytes in and out per vhost, user and protocol since start. */
  readonly usage: UsageMeter
  readonly store: SqliteStore
  /** The queue model (vhosts, exchanges, queues) AMQP clients work on. */
  readonly broker: Broker
  readonly amqp: AmqpAdapter
  /** SIGHUP: every TLS listener reads its certificate files again; open connections keep theirs. */
  reloadCertificates(): ReloadOutcome[]
  /** Users, vhosts and permissions (the store the management API changes). */
  readonly access: AccessControl
  /** Drain: stop accepting, disconnect clients, commit what is pending, close the store. */
  close(): Promise<void>
}

/** The admin API's TLS handshake deadline: Node's default; admin clients are few and known. */
const ADMIN_TLS_HANDSHAKE_TIMEOUT_MS = 120_000

/** Bound on closing what a failed start-up had opened; the process exits after it in any case. */
const startFailureCloseTimeoutMs = 5000

/**
 * The composition root: locks the data directory, opens the store, builds core, adapters and listeners,
 * and closes them in reverse. A failing step closes what the steps before it opened, then throws: the
 * admin server listens only after the store and the model exist, so /readyz never answers 200 (nor
 * answers at all) for a start-up that failed.
 */
export async function startWharf(config: WharfConfig, logger: Logger): Promise<WharfNode> {
  const opened = new OpenedResources()
  try {
    return await build(config, logger, opened)
  } catch (err) {
    const problems = await opened.closeAll(startFailureCloseTimeoutMs)
    if (problems.length > 0) throw new Error(`${(err as Error).message} (then, closing what was open: ${problems.join('; ')})`, { cause: err })
    throw err
  }
}

async function build(config: WharfConfig, logger: Logger, opened: OpenedResources): Promise<WharfNode> {
  const metrics = new Metrics({ defaultMetrics: true })
  const usage = new UsageMeter()
  usage.registerMetrics(metrics)
  let ready = false
  const servers: Server[] = []
  const startedAtMs = Date.now()

  const lock = lockDataDir(config.dataDir)
  opened.add('data directory lock', () => lock.release())
  const nodeId = loadNodeId(config.dataDir)
  const store = SqliteStore.open({
    dataDir: config.dataDir,
    durability: config.storage.durability,
    commitWindowMs: config.storage.commitWindowMs,
    commitBatchMax: config.storage.commitBatchMax,
    deferredCommitMs: config.storage.deferredCommitMs,
    checkpointIntervalMs: config.storage.checkpointIntervalMs,
    walBytesMax: config.storage.walBytesMax,
    onCheckpointError: message => logger.warn(message, { component: 'store' }),
    onCommit: commitObserver(metrics).onCommit,
    clock: systemClock
  })
  opened.add('store', () => store.close())
  registerStoreMetrics(metrics, store)

  const durable = new SqliteDurableStore(store, amqpPropertiesCodec, Date.now, logger.child({ component: 'model' }))
  const streams = new SqliteStreamStore(store, amqpPropertiesCodec, {
    segmentBytes: config.streams.segmentBytes,
    segmentAgeSeconds: config.streams.segmentAgeSeconds,
    ...streamReadDefaults,
    maintenanceIntervalMs: 0, // the tiering manager seals and applies retention every tiering.checkIntervalMs
    clock: systemClock,
    logger: logger.child({ component: 'streams' })
  })
  // Shared by every protocol and the admin API: a user's logins, publish rate and connections count together.
  const verifier = new PasswordVerifier(config.limits.verifierCacheEntriesMax)
  const access = await openAccess(config, store, logger, verifier)
  const objectLimits = new ObjectLimitsStore(store)
  const broker = new Broker({
    vhosts: access.store.vhosts(),
    store: durable,
    logger: logger.child({ component: 'model' }),
    streams,
    queuesMax: vhost => objectLimits.vhostLimit(vhost, 'max-queues') ?? -1,
    queueMemoryMessagesMax: config.storage.queueMemoryMessagesMax,
    idleQueueMemoryMessagesMax: config.storage.idleQueueMemoryMessagesMax,
    flowStartMessages: config.storage.flowStartMessages,
    flowHoldMaxMs: config.storage.flowHoldMaxMs,
    warnIntervalMs: config.log.repeatIntervalSeconds * 1000
  })
  opened.add('queue model', () => broker.close())
  const { messages, pagedEntries, transientEntriesDropped } = broker.restored
  if (pagedEntries > 0 || transientEntriesDropped > 0)
    logger.info('queues restored', { inMemory: messages, leftInStore: pagedEntries, transientDropped: transientEntriesDropped, component: 'model' })
  registerModelMetrics(broker, metrics, config.metrics.queueLabelsMax)
  const warnIntervalMs = config.mqtt.warnIntervalSeconds * 1000
  const limits = new AbuseLimits(config.limits, systemClock, metrics, logger.child({ component: 'limits' }), warnIntervalMs, objectLimits)
  const amqp = createAmqpAdapter({
    amqp: config.amqp,
    access,
    broker,
    logger,
    metrics,
    usage,
    warnIntervalSeconds: config.log.repeatIntervalSeconds,
    version: wharfVersion,
    limits,
    nodeId
  })
  opened.add('amqp adapter', async () => await amqp.close())
  const mqtt = await createMqttAdapter({
    mqtt: config.mqtt,
    auth: config.auth,
    access,
    store,
    model: broker,
    propertiesCodec: amqpPropertiesCodec,
    archive: config.archive,
    logger,
    metrics,
    usage,
    version: wharfVersion,
    scramServerSecret: loadScramServerSecret(config.dataDir),
    limits,
    nodeId
  })
  opened.add('mqtt adapter', async () => await mqtt.close())
  wireVhosts(access.store, broker, amqp, mqtt, config, logger.child({ component: 'access' }))
  // A vhost's or user's limits go with it, as in RabbitMQ: one added again under the name starts with none.
  access.store.addUserDeletedListener(async name => void (await objectLimits.clear('user', name)))
  access.store.addVhostListener({ vhostAdded: () => {}, vhostDeleting: () => {}, vhostDeleted: async name => void (await objectLimits.clear('vhost', name)) })
  registerNodeMetrics(metrics, broker, mqtt, amqp)
  const tiering = startTiering(config, store, streams, systemClock, logger, metrics)
  opened.add('tiering', async () => await tiering.close())
  if (config.tiering.requiredAtStart) await checkObjectStore(tiering.objectStore, config.tiering.startCheckTimeoutMs)
  // The disk watermark and each bridge's backlog bound throttle publishers; the gate combines them.
  const publishGate = new PublishGate(
    reasonFor => {
      amqp.setBlocked(reasonFor)
      mqtt.setRefusing(reasonFor)
    },
    logger.child({ component: 'publish-gate' })
  )
  // The disk and memory watermarks also stop the bridges' downlinks from taking (and storing) more.
  const downlinkGate = new DownlinkGate()
  const disk = watchDisk(config, store, logger, metrics, reason => {
    publishGate.set('disk', reason)
    downlinkGate.set('disk', reason)
  })
  opened.add('disk watermark', () => disk.stop())
  const heap = watchHeap(config, logger, metrics, reason => {
    publishGate.set('memory', reason)
    downlinkGate.set('memory', reason)
  })
  opened.add('memory watermark', () => heap.stop())
  const bridges = await startBridges({
    bridges: config.bridges,
    broker,
    mqtt: config.mqtt,
    nodeId,
    clock: systemClock,
    logger,
    metrics,
    onBlock: (name, vhost, reason) => publishGate.set(`bridge ${name}`, reason, vhost),
    downlinkGate,
    store
  })
  opened.add('bridges', async () => await bridges.close())
  const ops: Ops = startOps({
    config,
    broker,
    usage,
    mqtt,
    amqp,
    disk,
    heap: heap.watermark,
    bridges: () => bridges.status(),
    limits,
    tiering,
    clock: systemClock,
    logger
  })
  opened.add('diagnosis and metering', async () => await ops.close())

  let wsPort = 0 // bound after the admin server; the live page asks for it at request time
  const management = managementContext({
    broker,
    access,
    objectLimits,
    amqp,
    mqtt,
    metrics,
    version: wharfVersion,
    startedAtMs,
    mqttVhost: config.mqtt.vhost,
    mqttExchange: config.mqtt.exchange,
    nowMs: () => systemClock.nowMs(),
    overviewExtras: () => {
      const t = tiering.status()
      return {
        store: store.stats,
        storage: {
          local_bytes: sqliteStoredBytes(store.db),
          cold_bytes: t.storedObjectBytes ?? 0,
          tiering_backlog_bytes: t.backlogBytes,
          tiering_backlog_segments: t.backlogSegments
        }
      }
    }
  })
  const stopRateSampling = startRateSampling(management, config.metrics.rateSampleIntervalSeconds * 1000)
  opened.add('management rates', () => stopRateSampling())
  const adminHandler = adminRequestHandler(
    metrics,
    {
      ready: () => ready,
      tiering: () => ({ ...tiering.status(), disk: disk.status() }),
      bridges: () => bridges.status()
    },
    {
      access,
      extraRoutes: { ...liveRoutes({ wsPort: () => wsPort, wsPath: config.mqtt.ws.path }), ...opsRoutes(ops) },
      publicRoutes: consoleRoutes(),
      apis: [managementApiOf(management), accessRoutes(access.store)]
    }
  )
  const hosts = bindAddresses(config)
  warnAnonymousExposure(config, hosts, logger.child({ component: 'mqtt' }))
  const reloader = new CertificateReloader()
  const gate = new ConnectionGate(
    new SourceIpRate(config.limits.perSourceIp.connectionsPerSecond, () => systemClock.nowMs(), config.limits.perSourceIp.addressesMax),
    metrics,
    new RateLimitedLog(logger.child({ component: 'limits' }), warnIntervalMs, systemClock)
  )
  const ports: BoundPorts = {
    admin: await listenOn(createHttpServer(adminHandler), config.admin.port, hosts.admin, 'admin http'),
    ...(await startProtocolListeners({ config, mqtt, amqp, gate, reloader, listenOn, onClose: (name, fn) => opened.add(name, fn) }))
  }
  wsPort = ports.ws
  if (tlsEnabled(config.admin.tls)) {
    const adminTls = createHttpsServer(tlsServerOptions(config.admin.tls, 'admin.tls', ADMIN_TLS_HANDSHAKE_TIMEOUT_MS), adminHandler)
    reloader.add('admin.tls', adminTls, config.admin.tls)
    gate.watchHandshakes(adminTls, 'admin https')
    ports.adminTls = await listenOn(adminTls, config.admin.tls.port, hosts.adminTls, 'admin https')
  }
  await lowerThreadsBelowEventLoop(config, logger)
  ready = true
  logger.info('wharf ready', { version: wharfVersion, dataDir: config.dataDir, durability: config.storage.durability, hosts, ports })

  let closing: Promise<void> | undefined
  return {
    ports,
    metrics,
    usage,
    store,
    broker,
    amqp,
    reloadCertificates: () => {
      const outcomes = reloader.reload()
      for (const o of outcomes) {
        if (o.error === undefined) logger.info('tls certificates reloaded', { listener: o.listener })
        else logger.error('tls certificates not reloaded; the listener keeps its previous ones', { listener: o.listener, error: o.error })
      }
      return outcomes
    },
    access,
    close: () => {
      closing ??= (async () => {
        ready = false
        logger.info('draining: stop accepting, disconnect clients, commit, close store')
        const stopped = Promise.all(servers.map(closeServer))
        disk.stop()
        stopRateSampling()
        await bridges.close()
        await amqp.close()
        await mqtt.close()
        await ops.close() // the last usage record goes to the object store before it closes
        await tiering.close()
        broker.close()
        store.flush()
        await new Promise(resolve => setImmediate(resolve))
        store.close()
        await stopped
        lock.release()
        logger.info('stopped')
      })()
      return closing
    }
  }

  /** Listens, and on a later failure stops accepting at once (the adapters, closed after, end the connections). */
  async function listenOn(server: Server, port: number, host: string, name: string): Promise<number> {
    servers.push(server)
    opened.add(`${name} listener`, () => {
      server.close()
      if ('closeAllConnections' in server) (server as HttpServer).closeAllConnections()
    })
    return await listen(server, port, host, name)
  }
}

/** Once every thread of the start-up exists (background-threads.ts); a failure is logged, and start-up goes on. */
async function lowerThreadsBelowEventLoop(config: WharfConfig, logger: Logger): Promise<void> {
  try {
    // libuv starts its pool at the first request that needs it: make sure its threads exist first.
    await access(config.dataDir)
    const lowered = lowerBackgroundThreads(config.runtime.backgroundThreadsNice)
    if (lowered !== null) logger.debug('background threads lowered', { threads: lowered.threads, nice: lowered.nice })
  } catch (err) {
    logger.warn('background threads not all lowered below the event loop', { error: (err as Error).message })
  }
}
