// The shape of a Wharf configuration after defaults, file and environment were merged and validated.
// Every limit carries its unit in its name.
import type { LogLevel } from '../core/logger.ts'
import type { Durability } from '../core/storage/sqlite-store.ts'

export interface TlsListenerConfig {
  /** Listener port for the TLS variant; used only when certFile and keyFile are both set. */
  port: number
  certFile: string | null
  keyFile: string | null
  /** Optional CA bundle for client certificates. */
  caFile: string | null
}

export interface UserConfig {
  username: string
  /** scrypt hash as written by `wharf passwd`: scrypt$<N>$<r>$<p>$<salt b64>$<hash b64> */
  passwordHash: string
  /** Topic filters this user may publish to (MQTT syntax, %u and %c substituted). Absent: auth.defaultAcl applies. */
  publish?: string[]
  /** Topic filters this user may subscribe to. Absent: auth.defaultAcl applies. */
  subscribe?: string[]
  /** vhosts this user may open over AMQP; absent = ['/']. */
  vhosts?: string[]
}

export interface AclConfig {
  /** Absent: publishing anywhere is allowed. */
  publish?: string[]
  /** Absent: subscribing anywhere is allowed. */
  subscribe?: string[]
}

export type OfflineQueueOverflow = 'drop-oldest' | 'drop-newest'

export interface MqttConfig {
  port: number
  tls: TlsListenerConfig
  ws: { port: number, path: string, tls: TlsListenerConfig }
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
  connectTimeoutSeconds: number
}

export interface AmqpConfig {
  port: number
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
}

export interface WharfConfig {
  /** SQLite file and default cold tier live here. */
  dataDir: string
  /** Bind address of every listener. */
  host: string
  log: { level: LogLevel }
  storage: {
    durability: Durability
    commitWindowMs: number
    commitBatchMax: number
  }
  mqtt: MqttConfig
  amqp: AmqpConfig
  admin: { port: number }
  auth: {
    allowAnonymous: boolean
    users: UserConfig[]
    /** Applies to anonymous clients and to users without own publish/subscribe lists. */
    defaultAcl: AclConfig
  }
}
