// The embedded defaults: `wharf start` with no file and no WHARF_* variables runs on exactly this.
import type { BridgeConfig, MqttTlsConfig, ProtocolTlsConfig, TlsListenerConfig, WharfConfig } from './config-types.ts'
import { kibibyte, mebibyte } from './byte-units.ts'

/** A TLS listener that stays off until both certFile and keyFile are set. */
function tlsDisabled(port: number): TlsListenerConfig {
  return { host: null, port, certFile: null, keyFile: null, caFile: null, minVersion: 'TLSv1.2' }
}

function protocolTlsDisabled(port: number): ProtocolTlsConfig {
  return { ...tlsDisabled(port), identityAsUsername: null }
}

function mqttTlsDisabled(port: number): MqttTlsConfig {
  return { ...protocolTlsDisabled(port), vhost: null }
}

/** A fresh object on every call, so callers may mutate it. */
export function defaultConfig(): WharfConfig {
  return {
    dataDir: './data',
    host: '0.0.0.0',
    log: { level: 'info', format: 'json', repeatIntervalSeconds: 10 },
    storage: {
      durability: 'process',
      commitWindowMs: 0,
      commitBatchMax: 5000,
      deferredCommitMs: 10,
      localBytesMax: 0,
      diskCheckIntervalMs: 1000,
      checkpointIntervalMs: 250,
      walBytesMax: 67108864,
      queueMemoryMessagesMax: 10000,
      idleQueueMemoryMessagesMax: 256,
      flowStartMessages: 500,
      flowHoldMaxMs: 1000
    },
    mqtt: {
      host: null,
      port: 1883,
      tls: mqttTlsDisabled(8883),
      ws: { host: null, port: 8083, path: '/mqtt', vhost: null, tls: mqttTlsDisabled(8084) },
      maxPacketBytes: 16 * mebibyte,
      maxConnections: 10000,
      maxInflightMessages: 100,
      maxQueuedMessages: 100000,
      maxQueuedBytes: 256 * mebibyte,
      queueOverflow: 'drop-oldest',
      maxClientIdLength: 256,
      connectTimeoutSeconds: 10,
      partialPacketTimeoutSeconds: 5,
      exchange: 'amq.topic',
      vhost: '/',
      receiveMaximum: 65535,
      topicAliasMaximum: 1024,
      serverKeepAliveSeconds: 0,
      maximumQos: 2,
      sysIntervalSeconds: 10,
      warnIntervalSeconds: 10
    },
    amqp: {
      host: null,
      port: 5672,
      tls: protocolTlsDisabled(5671),
      vhosts: ['/'],
      frameMaxBytes: 131072,
      channelMax: 2047,
      heartbeatSeconds: 60,
      maxConnections: 10000,
      maxMessageBytes: 16 * mebibyte,
      handshakeTimeoutSeconds: 10,
      partialFrameTimeoutSeconds: 5,
      writeBufferBytesMax: mebibyte
    },
    streams: { segmentBytes: 16 * mebibyte, segmentAgeSeconds: 3600, blockBytes: 256 * kibibyte },
    tiering: {
      url: null,
      s3: { endpoint: null, region: null, forcePathStyle: false },
      localAgeSeconds: 86400,
      localBytesMax: 1024 * mebibyte,
      cacheBytesMax: 64 * mebibyte,
      prefetchWatermark: 0.5,
      uploadRetryInitialMs: 500,
      uploadRetryMaxMs: 60000,
      checkIntervalMs: 1000,
      requiredAtStart: false,
      startCheckTimeoutMs: 5000
    },
    archive: [],
    bridges: [],
    limits: {
      perConnection: { publishMessagesPerSecond: 0, publishBytesPerSecond: 0 },
      perUser: { publishMessagesPerSecond: 0, publishBytesPerSecond: 0, connectionsMax: 0 },
      perVhost: { connectionsMax: 0 },
      perSourceIp: { connectionsPerSecond: 0, addressesMax: 100_000 },
      publishBurstMs: 100,
      verifierCacheEntriesMax: 10000
    },
    // The admin API answers on this machine only unless configured otherwise (RabbitMQ's guest rule, for HTTP).
    admin: { host: '127.0.0.1', port: 8080, tls: tlsDisabled(8443) },
    metrics: { queueLabelsMax: 200, rateSampleIntervalSeconds: 5 },
    metering: { recordIntervalSeconds: 3600, node: null },
    diagnose: { sampleIntervalSeconds: 10, samplesMax: 6, redeliveriesMin: 3 },
    runtime: { backgroundThreadsNice: 10, heapWatermarkRatio: 0.6, heapCheckIntervalMs: 1000 },
    auth: { allowAnonymous: true, guest: { enabled: true }, users: [], permissions: [], topicPermissions: [], defaultAcl: {} }
  }
}

/** What a bridge entry holds for every field it does not set (name and url have no default). */
export function defaultBridge(): Omit<BridgeConfig, 'name' | 'url'> {
  return {
    vhost: null,
    tls: { caFile: null, certFile: null, keyFile: null, serverName: null, rejectUnauthorized: true },
    out: { topics: [], localPrefix: '', remotePrefix: '' },
    in: { topics: [], localPrefix: '', remotePrefix: '' },
    amqp: { exchange: 'amq.topic', queue: null, prefetchMessages: 100 },
    mqtt: { qos: 1, clientId: null, cleanSession: false, sessionExpirySeconds: 604800, protocolVersion: 5 },
    keepAliveSeconds: 30,
    inflightMessagesMax: 1000,
    hopsMax: 4,
    uplinkMessagesPerSecondMax: 0,
    backlogBytesMax: 256 * mebibyte,
    backlogPolicy: 'block',
    reconnectInitialMs: 500,
    reconnectMaxMs: 30000,
    connectTimeoutMs: 10000,
    logIntervalSeconds: 60
  }
}
