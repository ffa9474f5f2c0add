import { createServer as createNetServer, type Server } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { readFileSync } from 'node:fs'
import type { WharfConfig, TlsListenerConfig } from '../edge-config/config-types.ts'
import type { Logger } from '../core/logger.ts'
import { Metrics } from '../core/metrics.ts'
import { SqliteStore } from '../core/storage/sqlite-store.ts'
import { createMqttAdapter, type MqttAdapter } from '../adapters/mqtt/mqtt-adapter.ts'
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
import { startTiering, type Tiering } from './tiering-wiring.ts'
import { watchDisk } from './disk-wiring.ts'
import type { DiskWatermark } from '../core/storage/disk-watermark.ts'
import { listen, closeServer } from './listen.ts'
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

/** The composition root: builds store, core, adapters and listeners, and closes them in reverse. */
export async function startWharf (config: WharfConfig, logger: Logger): Promise<WharfNode> {
  const metrics = new Metrics()
  let ready = false
  const servers: Server[] = []
  const startedAtMs = Date.now()
  // The admin server answers from the start, before these exist (while the store opens and listeners start).
  let built: { store: SqliteStore, broker: Broker, amqp: AmqpAdapter, mqtt: MqttAdapter, tiering: Tiering, disk: DiskWatermark } | undefined
  let wsPort = 0 // bound after the admin server; the live page asks for it at request time

  const admin = createAdminServer(metrics, {
    ready: () => ready,
    overview: () => ({
      product_name: 'Wharf',
      product_version: wharfVersion,
      node_version: process.version,
      uptime_ms: Date.now() - startedAtMs,
      object_totals: { connections: (built?.mqtt.openConnections ?? 0) + (built?.amqp.openConnections ?? 0) },
      store: built?.store.stats ?? null
    }),
    connections: () => [
      ...(built?.mqtt.connections().map(c => ({ name: c.clientId, protocol: MQTT_PROTOCOL_NAMES[c.protocolVersion], client_id: c.clientId, user: c.username, clean_session: c.clean, peer_host: c.remoteAddress, transport: c.transport, connected_at: c.connectedAtMs })) ?? []),
      ...(built?.amqp.connections().map(c => ({ name: c.name, protocol: 'AMQP 0-9-1', user: c.user, vhost: c.vhost, channels: c.channels, peer_host: c.peerHost })) ?? [])
    ],
    queues: () => built === undefined ? [] : listQueues(built.broker),
    tiering: () => built === undefined ? null : { ...built.tiering.status(), disk: built.disk.status() }
  }, liveRoutes({ wsPort: () => wsPort, wsPath: config.mqtt.ws.path }))
  servers.push(admin)
  const adminPort = await listen(admin, config.admin.port, config.host, 'admin http')

  const store = SqliteStore.open({
    dataDir: config.dataDir,
    durability: config.storage.durability,
    commitWindowMs: config.storage.commitWindowMs,
    commitBatchMax: config.storage.commitBatchMax,
    checkpointIntervalMs: config.storage.checkpointIntervalMs,
    walBytesMax: config.storage.walBytesMax,
    onCheckpointError: message => logger.warn(message, { component: 'store' })
  })
  metrics.gauge('wharf_store_commits_total', 'Group commits of the SQLite store', () => store.stats.commits)
  metrics.gauge('wharf_store_writes_committed_total', 'Writes committed by the SQLite store', () => store.stats.committedWrites)

  let mqtt: MqttAdapter
  let broker: Broker
  let amqp: AmqpAdapter
  let tiering: Tiering | undefined
  let disk: DiskWatermark
  const undo: Array<() => unknown> = [] // closers of what this block built, for a failure part way
  try {
    const durable = new SqliteDurableStore(store, amqpPropertiesCodec, Date.now, logger.child({ component: 'model' }))
    const streams = new SqliteStreamStore(store, amqpPropertiesCodec, {
      segmentBytes: config.streams.segmentBytes,
      segmentAgeSeconds: config.streams.segmentAgeSeconds,
      ...streamReadDefaults,
      maintenanceIntervalMs: 0, // the tiering manager seals and applies retention every tiering.checkIntervalMs
      clock: systemClock,
      logger: logger.child({ component: 'streams' })
    })
    broker = new Broker({ vhosts: config.amqp.vhosts, store: durable, logger: logger.child({ component: 'model' }), streams })
    undo.push(() => broker.close())
    registerModelMetrics(broker, metrics)
    amqp = createAmqpAdapter({ amqp: config.amqp, users: config.auth.users, broker, logger, metrics, version: wharfVersion })
    undo.push(async () => await amqp.close())
    mqtt = await createMqttAdapter({ mqtt: config.mqtt, auth: config.auth, store, model: broker, propertiesCodec: amqpPropertiesCodec, archive: config.archive, logger, metrics, version: wharfVersion, scramServerSecret: loadScramServerSecret(config.dataDir) })
    undo.push(async () => await mqtt.close())
    tiering = startTiering(config, store, streams, systemClock, logger, metrics)
    undo.push(async () => await tiering?.close())
    disk = watchDisk(config, store, logger, metrics, reason => { amqp.setBlocked(reason); mqtt.setRefusing(reason) })
  } catch (err) {
    // In reverse, what was built before the failure.
    for (const close of undo.reverse()) await close()
    await closeServer(admin)
    store.close()
    throw err
  }
  built = { store, broker, amqp, mqtt, tiering, disk }
  const handle = mqtt.handle.bind(mqtt)

  try {
    const mqttServer = createNetServer({ noDelay: true }, socket => handle(socket))
    servers.push(mqttServer)
    const ports: BoundPorts = {
      admin: adminPort,
      mqtt: await listen(mqttServer, config.mqtt.port, config.host, 'mqtt'),
      ws: await listenWs(createHttpServer(), config.mqtt.ws.port, 'mqtt websocket'),
      amqp: await listenAmqp()
    }
    wsPort = ports.ws
    const mqttTls = tlsOptions(config.mqtt.tls)
    if (mqttTls) {
      const s = createTlsServer({ ...mqttTls, noDelay: true }, socket => handle(socket, undefined, 'tls'))
      servers.push(s)
      ports.mqttTls = await listen(s, config.mqtt.tls.port, config.host, 'mqtt tls')
    }
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
          logger.info('stopped')
        })()
        return closing
      }
    }
  } catch (err) {
    await Promise.all(servers.map(closeServer))
    disk.stop()
    await amqp.close()
    await mqtt.close()
    await tiering.close()
    broker.close()
    store.close()
    throw err
  }

  async function listenAmqp (): Promise<number> {
    const server = createNetServer({ noDelay: true }, socket => amqp.handle(socket))
    servers.push(server)
    return await listen(server, config.amqp.port, config.host, 'amqp')
  }

  async function listenWs (server: HttpServer, port: number, name: string): Promise<number> {
    servers.push(server)
    server.on('request', (_req, res) => { res.writeHead(426, { 'content-type': 'text/plain' }); res.end(`MQTT over WebSocket is served on ${config.mqtt.ws.path}\n`) })
    const wss = attachWsTransport(server, { path: config.mqtt.ws.path, maxPayloadBytes: config.mqtt.maxPacketBytes, onConnection: (stream, req) => handle(stream, req, name) })
    server.on('close', () => { for (const c of wss.clients) c.terminate(); wss.close() })
    return await listen(server, port, config.host, name)
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
