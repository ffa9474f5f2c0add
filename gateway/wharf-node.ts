import { createServer as createNetServer, type Server } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { readFileSync } from 'node:fs'
import type { WharfConfig, TlsListenerConfig } from '../edge-config/config-types.ts'
import type { Logger } from '../core/logger.ts'
import { Metrics } from '../core/metrics.ts'
import { SqliteStore } from '../core/storage/sqlite-store.ts'
import { createMqttAdapter } from '../adapters/mqtt/mqtt-adapter.ts'
import { attachWsTransport } from '../adapters/ws/ws-transport.ts'
import { createAmqpAdapter, type AmqpAdapter } from '../adapters/amqp/amqp-adapter.ts'
import { amqpPropertiesCodec } from '../adapters/amqp/properties-codec.ts'
import { Broker } from '../core/model/broker.ts'
import { SqliteDurableStore } from '../core/model/sqlite/sqlite-durable-store.ts'
import { registerModelMetrics } from '../core/model/model-metrics.ts'
import { SqliteStreamStore, streamReadDefaults } from '../core/streams/sqlite-stream-store.ts'
import { systemClock } from '../core/clock.ts'
import { createAdminServer } from './admin-http.ts'
import { liveRoutes } from './live-page-routes.ts'
import { listQueues } from './queue-listing.ts'
import { startTiering } from './tiering-wiring.ts'
import { watchDisk } from './disk-wiring.ts'
import { listen, closeServer } from './listen.ts'
import { OpenedResources } from './opened-resources.ts'
import { checkObjectStore } from './object-store-check.ts'
import { lockDataDir } from '../core/storage/data-dir-lock.ts'
import { wharfVersion } from './version.ts'
import { loadScramServerSecret } from './scram-secret.ts'

const MQTT_PROTOCOL_NAMES = { 3: 'MQTT 3.1', 4: 'MQTT 3.1.1', 5: 'MQTT 5.0' } as const

export interface BoundPorts {
  mqtt: number
  ws: number
  amqp: number
  admin: number
  mqttTls?: number
  wsTls?: number
}

export interface WharfNode {
  readonly ports: BoundPorts
  readonly metrics: Metrics
  readonly store: SqliteStore
  /** The queue model (vhosts, exchanges, queues) AMQP clients work on. */
  readonly broker: Broker
  readonly amqp: AmqpAdapter
  /** Drain: stop accepting, disconnect clients, commit what is pending, close the store. */
  close(): Promise<void>
}

/** Bound on closing what a failed start-up had opened; the process exits after it in any case. */
const startFailureCloseTimeoutMs = 5000

/**
 * The composition root: locks the data directory, opens the store, builds core, adapters and listeners,
 * and closes them in reverse. A failing step closes what the steps before it opened, then throws: the
 * admin server listens only after the store and the model exist, so /readyz never answers 200 (nor
 * answers at all) for a start-up that failed.
 */
export async function startWharf (config: WharfConfig, logger: Logger): Promise<WharfNode> {
  const opened = new OpenedResources()
  try {
    return await build(config, logger, opened)
  } catch (err) {
    const problems = await opened.closeAll(startFailureCloseTimeoutMs)
    if (problems.length > 0) throw new Error(`${(err as Error).message} (then, closing what was open: ${problems.join('; ')})`, { cause: err })
    throw err
  }
}

async function build (config: WharfConfig, logger: Logger, opened: OpenedResources): Promise<WharfNode> {
  const metrics = new Metrics()
  let ready = false
  const servers: Server[] = []
  const startedAtMs = Date.now()

  const lock = lockDataDir(config.dataDir)
  opened.add('data directory lock', () => lock.release())
  const store = SqliteStore.open({
    dataDir: config.dataDir,
    durability: config.storage.durability,
    commitWindowMs: config.storage.commitWindowMs,
    commitBatchMax: config.storage.commitBatchMax,
    checkpointIntervalMs: config.storage.checkpointIntervalMs,
    walBytesMax: config.storage.walBytesMax,
    onCheckpointError: message => logger.warn(message, { component: 'store' })
  })
  opened.add('store', () => store.close())
  metrics.gauge('wharf_store_commits_total', 'Group commits of the SQLite store', () => store.stats.commits)
  metrics.gauge('wharf_store_writes_committed_total', 'Writes committed by the SQLite store', () => store.stats.committedWrites)

  const durable = new SqliteDurableStore(store, amqpPropertiesCodec, Date.now, logger.child({ component: 'model' }))
  const streams = new SqliteStreamStore(store, amqpPropertiesCodec, {
    segmentBytes: config.streams.segmentBytes,
    segmentAgeSeconds: config.streams.segmentAgeSeconds,
    ...streamReadDefaults,
    maintenanceIntervalMs: 0, // the tiering manager seals and applies retention every tiering.checkIntervalMs
    clock: systemClock,
    logger: logger.child({ component: 'streams' })
  })
  const broker = new Broker({ vhosts: config.amqp.vhosts, store: durable, logger: logger.child({ component: 'model' }), streams })
  opened.add('queue model', () => broker.close())
  registerModelMetrics(broker, metrics)
  const amqp = createAmqpAdapter({ amqp: config.amqp, users: config.auth.users, broker, logger, metrics, version: wharfVersion })
  opened.add('amqp adapter', async () => await amqp.close())
  const mqtt = await createMqttAdapter({ mqtt: config.mqtt, auth: config.auth, store, model: broker, propertiesCodec: amqpPropertiesCodec, archive: config.archive, logger, metrics, version: wharfVersion, scramServerSecret: loadScramServerSecret(config.dataDir) })
  opened.add('mqtt adapter', async () => await mqtt.close())
  const tiering = startTiering(config, store, streams, systemClock, logger, metrics)
  opened.add('tiering', async () => await tiering.close())
  if (config.tiering.requiredAtStart) await checkObjectStore(tiering.objectStore, config.tiering.startCheckTimeoutMs)
  const disk = watchDisk(config, store, logger, metrics, reason => { amqp.setBlocked(reason); mqtt.setRefusing(reason) })
  opened.add('disk watermark', () => disk.stop())

  let wsPort = 0 // bound after the admin server; the live page asks for it at request time
  const admin = createAdminServer(metrics, {
    ready: () => ready,
    overview: () => ({
      product_name: 'Wharf',
      product_version: wharfVersion,
      node_version: process.version,
      uptime_ms: Date.now() - startedAtMs,
      object_totals: { connections: mqtt.openConnections + amqp.openConnections },
      store: store.stats
    }),
    connections: () => [
      ...mqtt.connections().map(c => ({ name: c.clientId, protocol: MQTT_PROTOCOL_NAMES[c.protocolVersion], client_id: c.clientId, user: c.username, clean_session: c.clean, peer_host: c.remoteAddress, transport: c.transport, connected_at: c.connectedAtMs })),
      ...amqp.connections().map(c => ({ name: c.name, protocol: 'AMQP 0-9-1', user: c.user, vhost: c.vhost, channels: c.channels, peer_host: c.peerHost }))
    ],
    queues: () => listQueues(broker),
    tiering: () => ({ ...tiering.status(), disk: disk.status() })
  }, liveRoutes({ wsPort: () => wsPort, wsPath: config.mqtt.ws.path }))
  const handle = mqtt.handle.bind(mqtt)
  const mqttServer = createNetServer({ noDelay: true }, socket => handle(socket))
  const amqpServer = createNetServer({ noDelay: true }, socket => amqp.handle(socket))

  const ports: BoundPorts = {
    admin: await listenOn(admin, config.admin.port, 'admin http'),
    mqtt: await listenOn(mqttServer, config.mqtt.port, 'mqtt'),
    ws: await listenWs(createHttpServer(), config.mqtt.ws.port, 'mqtt websocket'),
    amqp: await listenOn(amqpServer, config.amqp.port, 'amqp')
  }
  wsPort = ports.ws
  const mqttTls = tlsOptions(config.mqtt.tls)
  if (mqttTls) ports.mqttTls = await listenOn(createTlsServer({ ...mqttTls, noDelay: true }, socket => handle(socket, undefined, 'tls')), config.mqtt.tls.port, 'mqtt tls')
  const wsTls = tlsOptions(config.mqtt.ws.tls)
  if (wsTls) ports.wsTls = await listenWs(createHttpsServer(wsTls), config.mqtt.ws.tls.port, 'mqtt websocket tls')
  ready = true
  logger.info('wharf ready', { version: wharfVersion, dataDir: config.dataDir, durability: config.storage.durability, host: config.host, ports })

  let closing: Promise<void> | undefined
  return {
    ports,
    metrics,
    store,
    broker,
    amqp,
    close: () => {
      closing ??= (async () => {
        ready = false
        logger.info('draining: stop accepting, disconnect clients, commit, close store')
        const stopped = Promise.all(servers.map(closeServer))
        disk.stop()
        await amqp.close()
        await mqtt.close()
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
  async function listenOn (server: Server, port: number, name: string): Promise<number> {
    servers.push(server)
    opened.add(`${name} listener`, () => { server.close(); if ('closeAllConnections' in server) (server as HttpServer).closeAllConnections() })
    return await listen(server, port, config.host, name)
  }

  async function listenWs (server: HttpServer, port: number, name: string): Promise<number> {
    server.on('request', (_req, res) => { res.writeHead(426, { 'content-type': 'text/plain' }); res.end(`MQTT over WebSocket is served on ${config.mqtt.ws.path}\n`) })
    const wss = attachWsTransport(server, { path: config.mqtt.ws.path, maxPayloadBytes: config.mqtt.maxPacketBytes, onConnection: (stream, req) => handle(stream, req, name) })
    server.on('close', () => { for (const c of wss.clients) c.terminate(); wss.close() })
    opened.add(`${name} clients`, () => { for (const c of wss.clients) c.terminate() })
    return await listenOn(server, port, name)
  }
}

function tlsOptions (tls: TlsListenerConfig): { cert: Buffer, key: Buffer, ca?: Buffer } | null {
  if (!tls.certFile || !tls.keyFile) return null
  const read = (file: string, what: string): Buffer => {
    try { return readFileSync(file) } catch (err) { throw new Error(`tls: read ${what} ${file}: ${(err as Error).message}`) }
  }
  const opts: { cert: Buffer, key: Buffer, ca?: Buffer } = { cert: read(tls.certFile, 'certFile'), key: read(tls.keyFile, 'keyFile') }
  if (tls.caFile) opts.ca = read(tls.caFile, 'caFile')
  return opts
}
