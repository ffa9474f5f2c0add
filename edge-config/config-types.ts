// The shape of a Wharf configuration after defaults, file and environment were merged and validated.
// Every limit carries its unit in its name.
import type { LogFormat, LogLevel } from '../core/logger.ts'
import type { Durability } from '../core/storage/sqlite-store.ts'
import type { UserTag } from '../core/auth/access-types.ts'

/** TLS protocol versions Node's TLS accepts as a minimum. */
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'

/** Where a verified client certificate's username comes from. */
export type CertificateIdentity = 'commonName' | 'subjectAltName'

export interface TlsListenerConfig {
  /** Bind address; null = the host of the plain listener beside it. */
  host: string | null
  /** Listener port for the TLS variant; used only when certFile and keyFile are both set. */
  port: number
  certFile: string | null
  keyFile: string | null
  /** CA bundle (PEM) for client certificates: when set, a client must present one signed by it. */
  caFile: string | null
  /** Lowest TLS version a client may negotiate. */
  minVersion: TlsVersion
}

/** A TLS listener of a messaging protocol: a verified client certificate may name the user. */
export interface ProtocolTlsConfig extends TlsListenerConfig {
  /**
   * With caFile: the client certificate's CN or first SAN is the username and no password is asked
   * (MQTT as Mosquitto's use_identity_as_username, AMQP through SASL EXTERNAL); null = off.
   */
  identityAsUsername: CertificateIdentity | null
}

/**
 * A TLS listener of MQTT (TLS, secure WebSocket): as ProtocolTlsConfig, and the vhost its clients live
 * in unless their username names one ('vhost:user').
 */
export interface MqttTlsConfig extends ProtocolTlsConfig {
  /** null = mqtt.vhost. */
  vhost: string | null
}

export interface UserConfig {
  username: string
  /** scrypt hash as written by `wharf passwd`: scrypt$<N>$<r>$<p>$<salt b64>$<hash b64> */
  passwordHash: string
  /**
   * SCRAM-SHA-256 credentials for MQTT 5 enhanced authentication, RFC 5803 form as printed by
   * `wharf passwd --scram`: SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>.
   * Absent: the user cannot log in with SCRAM-SHA-256.
   */
  scramSha256?: string
  /** Topic filters this user may publish to (MQTT syntax, %u and %c substituted). Absent: auth.defaultAcl applies. */
  publish?: string[]
  /** Topic filters this user may subscribe to. Absent: auth.defaultAcl applies. */
  subscribe?: string[]
  /**
   * Legacy shorthand: full permissions (".*" ".*" ".*") in each of these vhosts; absent = ['/']. Used only
   * when auth.permissions names the user nowhere.
   */
  vhosts?: string[]
  /** Admin API tags: administrator (read and write), monitoring (read), policymaker, management. */
  tags?: UserTag[]
}

/** RabbitMQ's set_permissions: regexes over exchange and queue names in one vhost. */
export interface PermissionConfig {
  user: string
  vhost: string
  configure: string
  write: string
  read: string
}

/** RabbitMQ's set_topic_permissions: regexes over routing keys of one exchange ({username}, {vhost}, {client_id}). */
export interface TopicPermissionConfig {
  user: string
  vhost: string
  exchange: string
  write: string
  read: string
}

export interface AclConfig {
  /** Absent: publishing anywhere is allowed. */
  publish?: string[]
  /** Absent: subscribing anywhere is allowed. */
  subscribe?: string[]
}

export type OfflineQueueOverflow = 'drop-oldest' | 'drop-newest'

export interface MqttConfig {
  /** Bind address of MQTT over TCP; null = the top-level host. */
  host: string | null
  port: number
  tls: MqttTlsConfig
  /** vhost: of the clients of this listener that name none ('vhost:user'); null = mqtt.vhost. */
  ws: { host: string | null; port: number; path: string; vhost: string | null; tls: MqttTlsConfig }
  maxPacketBytes: number
  maxConnections: number
  /** Unacknowledged QoS 1/2 deliveries to one client before more are held back. */
  maxInflightMessages: number
  /** Per offline persistent session (clean=false). */
  maxQueuedMessages: number
  maxQueuedBytes: number
  /** What happens to a message that would exceed the offline-queue limits. Always counted and logged. */
  queueOverflow: OfflineQueueOverflow
  maxClientIdLength: number
  /** A connection that has not completed CONNECT (and its authentication) within this time is closed. */
  connectTimeoutSeconds: number
  /** A connection holding part of a packet that receives nothing more for this long is closed. */
  partialPacketTimeoutSeconds: number
  /** The topic exchange MQTT publishes go to and MQTT subscriptions bind on (RabbitMQ's mqtt.exchange). */
  exchange: string
  /**
   * The vhost of the clients of the TCP listener whose username names none ('vhost:user'), and of the
   * other MQTT listeners that set no vhost of their own; one of amqp.vhosts.
   */
  vhost: string
  /** Unacknowledged QoS 1/2 publishes a client may send at once (MQTT 5 Receive Maximum in CONNACK). */
  receiveMaximum: number
  /** Topic aliases a client may set (MQTT 5 Topic Alias Maximum in CONNACK); 0 allows none. */
  topicAliasMaximum: number
  /** When > 0, overrides the client's keep alive (MQTT 5 Server Keep Alive). */
  serverKeepAliveSeconds: number
  /** Highest QoS accepted and granted (MQTT 5 Maximum QoS). */
  maximumQos: 0 | 1 | 2
  /** How often $SYS/broker/... topics are published; 0 turns them off. */
  sysIntervalSeconds: number
  /** A repeated warning (drops, refusals) is logged at most once per this interval, with a count. */
  warnIntervalSeconds: number
}

export interface AmqpConfig {
  /** Bind address of AMQP over TCP; null = the top-level host. */
  host: string | null
  port: number
  /** AMQPS (AMQP over TLS, 5671). */
  tls: ProtocolTlsConfig
  /** Virtual hosts that exist; clients name one in connection.open. */
  vhosts: string[]
  /** Largest frame the server accepts and offers in connection.tune (a client may ask for less). */
  frameMaxBytes: number
  /** Highest channel number per connection, offered in connection.tune. */
  channelMax: number
  /** Heartbeat interval offered in connection.tune; 0 offers none. A peer silent for two intervals is dropped. */
  heartbeatSeconds: number
  maxConnections: number
  /** Largest message body accepted; a larger publish closes the channel with 406. */
  maxMessageBytes: number
  /** A connection that has not completed connection.open within this time is closed. */
  handshakeTimeoutSeconds: number
  /** A connection holding part of a frame that receives nothing more for this long is closed. */
  partialFrameTimeoutSeconds: number
  /** Bytes written to a connection and not yet taken by its peer beyond which its consumers get no deliveries until it drains. */
  writeBufferBytesMax: number
}

/** Bounds against abuse, shared by MQTT and AMQP. 0 = no limit. */
export interface LimitsConfig {
  /** Publishing of one connection; over the rate, its reads pause (throttled, never dropped). */
  perConnection: { publishMessagesPerSecond: number; publishBytesPerSecond: number }
  /** Publishing of all connections of one user together, and how many it may hold open. */
  perUser: { publishMessagesPerSecond: number; publishBytesPerSecond: number; connectionsMax: number }
  /** Connections open in one vhost. */
  perVhost: { connectionsMax: number }
  /** New connections accepted per second from one source address; more are closed at accept. */
  perSourceIp: { connectionsPerSecond: number; addressesMax: number }
  /** A throttled publisher may send this much of its rate at once before its reads pause. */
  publishBurstMs: number
  /** Users whose verified password is remembered (as a keyed hash), so their next login costs no scrypt; 0 = none. */
  verifierCacheEntriesMax: number
}

export interface StreamsConfig {
  /** A stream segment is sealed when its records reach this many bytes... */
  segmentBytes: number
  /** ...or when its first record is this old. */
  segmentAgeSeconds: number
  /** Uncompressed bytes per compressed block of an offloaded segment (one ranged GET reads one block). */
  blockBytes: number
}

export interface S3Config {
  /** S3-compatible endpoint URL; null = AWS. */
  endpoint: string | null
  /** null = AWS_REGION from the environment, else us-east-1 (see s3Region()). */
  region: string | null
  /** Path-style requests (http://host/bucket/key), which most non-AWS stores need. */
  forcePathStyle: boolean
}

export interface TieringConfig {
  /** file:///absolute/dir or s3://bucket[/prefix]; null = file://<dataDir>/cold (see tieringUrl()). */
  url: string | null
  /** Used when url is s3://. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, never from here. */
  s3: S3Config
  /** Sealed segments older than this are offloaded. */
  localAgeSeconds: number
  /** Sealed segments beyond this many local bytes are offloaded, oldest first. */
  localBytesMax: number
  /** In-memory block cache of cold reads. */
  cacheBytesMax: number
  /** Fraction of a block a reader passes before the next block is fetched. */
  prefetchWatermark: number
  /** Backoff of failed uploads: first delay, doubled up to uploadRetryMaxMs. */
  uploadRetryInitialMs: number
  uploadRetryMaxMs: number
  /** How often sealing and offloading run. */
  checkIntervalMs: number
  /** Start-up fails unless the object store answers within startCheckTimeoutMs (default: start, retry uploads later). */
  requiredAtStart: boolean
  startCheckTimeoutMs: number
}

/** MQTT topics matching filter are archived into a stream queue (durable, x-queue-type stream) in its vhost. */
export interface ArchiveConfig {
  /** MQTT topic filter. */
  filter: string
  /** Stream queue name. */
  stream: string
  /** The vhost of the stream and of the publishes it keeps (one of amqp.vhosts); absent: mqtt.vhost. */
  vhost?: string
  /** Retention by age; absent: kept until maxLengthBytes (or forever). */
  maxAgeSeconds?: number
  /** Retention by size (x-max-length-bytes); absent: no size bound. */
  maxLengthBytes?: number
}

export interface LogConfig {
  level: LogLevel
  /** json: one JSON object per line; text: one human-readable line per event. */
  format: LogFormat
  /** A warning repeated by any component is written at most once per interval, then once more with the count held back. */
  repeatIntervalSeconds: number
}

export interface MetricsConfig {
  /** Queues with their own `queue` label on /metrics; the rest are summed under queue="_other". */
  queueLabelsMax: number
  /** How often the management API samples its rates (message_stats, byte rates), as RabbitMQ's collect_statistics_interval. */
  rateSampleIntervalSeconds: number
}

export interface MeteringConfig {
  /** How often a usage record (JSON lines) is written to the object store; 0 writes none. */
  recordIntervalSeconds: number
  /** The node's name in usage records and their keys; null = the host name. */
  node: string | null
}

export interface RuntimeConfig {
  /**
   * Nice steps the process's threads other than the event loop (V8's compiler and GC helpers, libuv's
   * pool, the WAL checkpointer) run below it, so they yield the CPU to it; 0 leaves them (Linux only).
   */
  backgroundThreadsNice: number
  /**
   * The memory watermark, a fraction of V8's heap limit: while the live heap (what a full GC left)
   * is above it, publishers are refused as at the disk watermark; 0 = off (core/limits/heap-watermark.ts).
   */
  heapWatermarkRatio: number
  /** How often the heap in use is read to clear the memory watermark between full GCs. */
  heapCheckIntervalMs: number
}

export interface DiagnoseConfig {
  /** How often queue depths are sampled to tell a growing lag from a steady backlog. */
  sampleIntervalSeconds: number
  /** Samples kept per queue (the lag's trend is read over sampleIntervalSeconds x this). */
  samplesMax: number
  /** A message delivered at least this many times counts as a redelivery loop. */
  redeliveriesMin: number
}

/** What a bridge does with a message that would take its backlog past backlogBytesMax. */
export type BridgeBacklogPolicy = 'block' | 'drop-oldest'

/** TLS towards the remote of an amqps://, mqtts:// or wss:// bridge URL. */
export interface BridgeTlsConfig {
  /** CA bundle (PEM) the remote's certificate is checked against; null: the system's CAs. */
  caFile: string | null
  /** Client certificate (PEM) and its key, for remotes that ask for one; both or neither. */
  certFile: string | null
  keyFile: string | null
  /** The host name the remote's certificate must name; null: the URL's host. */
  serverName: string | null
  /** false accepts any certificate (tests only: it gives up on knowing who the remote is). */
  rejectUnauthorized: boolean
}

/** One direction of a bridge: the topic filters it carries and how topics are renamed on the way. */
export interface BridgeDirectionConfig {
  /** MQTT topic filters: `out`, local topics sent up; `in`, remote topics brought down. */
  topics: string[]
  /** Prefixes traded on the way: `out` removes localPrefix and puts remotePrefix in front, `in` the reverse. */
  localPrefix: string
  remotePrefix: string
}

/** A bridge to a cloud broker (DESIGN §8): a durable core queue of what goes up, and what comes down. */
export interface BridgeConfig {
  /** Names the bridge's core queue (bridge/<name>), its metrics and its log lines. */
  name: string
  /** amqp://, amqps://, mqtt://, mqtts://, ws:// or wss://; credentials may be in it (never logged). */
  url: string
  /**
   * The local vhost the bridge works in: its queues live there, `out` filters match publishes to that
   * vhost's MQTT exchange and `in` messages are published there; null: mqtt.vhost. One of amqp.vhosts.
   */
  vhost: string | null
  tls: BridgeTlsConfig
  out: BridgeDirectionConfig
  in: BridgeDirectionConfig
  amqp: {
    /** The remote exchange messages go to and the downlink queue binds on; routing keys are topics with '/' and '.' swapped. */
    exchange: string
    /** The remote's durable queue of `in` messages; null: wharf-bridge.<node id>.<name>. */
    queue: string | null
    /** Unacknowledged downlink messages the remote may send at once (basic.qos). */
    prefetchMessages: number
  }
  mqtt: {
    /** QoS of what goes up and of the `in` subscriptions. */
    qos: 0 | 1 | 2
    /** null: wharf-<node id>-<name>. */
    clientId: string | null
    /** false keeps the remote session (its `in` subscriptions and what they hold) while the edge is away. */
    cleanSession: boolean
    /** MQTT 5 Session Expiry Interval of a persistent session. */
    sessionExpirySeconds: number
    /** 5 (MQTT 5.0: properties travel) or 4 (MQTT 3.1.1). */
    protocolVersion: 4 | 5
  }
  /** AMQP heartbeat (unless the URL sets ?heartbeat=) or MQTT keep alive: how soon a silent remote is noticed. */
  keepAliveSeconds: number
  /** Messages sent up and not yet confirmed by the remote (AMQP confirms, MQTT PUBACK/PUBCOMP). */
  inflightMessagesMax: number
  /**
   * Wharf bridges a message may go up through (the nodes in its x-wharf-via, this one included): one
   * that went up through this many already is dead-lettered, not sent. Stops a loop through a path
   * that keeps the mark but is not a Wharf (a third-party shovel or bridge back into this node).
   */
  hopsMax: number
  /** Uplink rate cap; 0 = none. */
  uplinkMessagesPerSecondMax: number
  /** Bytes of message bodies the bridge queue holds before backlogPolicy applies; 0 = no bound. */
  backlogBytesMax: number
  backlogPolicy: BridgeBacklogPolicy
  /** Reconnect backoff: the first delay, doubled per failed attempt up to reconnectMaxMs, with jitter. */
  reconnectInitialMs: number
  reconnectMaxMs: number
  /** A connection attempt that has not completed within this is abandoned (and retried). */
  connectTimeoutMs: number
  /** The bridge's status line is logged at most this often (when something changed), and drops at most once per interval. */
  logIntervalSeconds: number
}

export interface WharfConfig {
  /** SQLite file and default cold tier live here. */
  dataDir: string
  /** Bind address of the protocol listeners that give none of their own (the admin API has its own). */
  host: string
  log: LogConfig
  storage: {
    durability: Durability
    commitWindowMs: number
    commitBatchMax: number
    /** Longest the deletion of acknowledged entries waits to join another commit (0 = its own turn). */
    deferredCommitMs: number
    /** Disk watermark: bytes the SQLite database holds (pages in use); above it publishers are refused. 0 = no limit. */
    localBytesMax: number
    /** How often the database's size (pages in use) is measured against localBytesMax. */
    diskCheckIntervalMs: number
    /** WAL checkpoints run in a worker thread this often (0 = inside the commit, SQLite's default). */
    checkpointIntervalMs: number
    /** The WAL file is truncated back to this size once a checkpoint has reset it (journal_size_limit). */
    walBytesMax: number
    /** Ready messages a durable queue holds in memory; the rest of a longer queue waits in SQLite only (0 = all in memory). */
    queueMemoryMessagesMax: number
    /** The same for a queue without consumers, and what a restart reads back per queue (at most queueMemoryMessagesMax). */
    idleQueueMemoryMessagesMax: number
    /** Ready messages above which a queue whose consumers are taking messages holds its publishers (flow); it lets go at half. */
    flowStartMessages: number
    /** The longest a queue whose consumers fall behind holds a publisher's acknowledgement (flow); 0 = never held. */
    flowHoldMaxMs: number
  }
  mqtt: MqttConfig
  amqp: AmqpConfig
  streams: StreamsConfig
  tiering: TieringConfig
  archive: ArchiveConfig[]
  bridges: BridgeConfig[]
  limits: LimitsConfig
  /** Admin HTTP; its TLS variant (https) runs beside it when certFile and keyFile are set. */
  admin: { host: string; port: number; tls: TlsListenerConfig }
  metrics: MetricsConfig
  metering: MeteringConfig
  diagnose: DiagnoseConfig
  runtime: RuntimeConfig
  auth: {
    allowAnonymous: boolean
    /** The built-in guest/guest user (loopback only, administrator, full permissions on '/'). */
    guest: { enabled: boolean }
    users: UserConfig[]
    /** Permissions per user and vhost; a user named here gets exactly these (its `vhosts` shorthand is ignored). */
    permissions: PermissionConfig[]
    /** Topic permissions per user, vhost and exchange; they override the mapping of publish/subscribe lists. */
    topicPermissions: TopicPermissionConfig[]
    /** Applies to anonymous clients and to users without own publish/subscribe lists. */
    defaultAcl: AclConfig
  }
}
