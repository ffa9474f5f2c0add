// Field types of every AMQP 0-9-1 method (RabbitMQ's extended spec, as generated into
// amqplib's lib/defs.js). Names are the spec's, camelCased as amqplib spells them
// (`no-wait` → `nowait`, `routing-key` → `routingKey`); defs.js reads exactly these keys.
// Reserved/deprecated fields (ticket, insist, known-hosts, ...) are optional.

/** Field-table decimal: value = digits / 10^places. */
export interface Decimal {
  readonly places: number
  readonly digits: number
}

/**
 * amqplib's "trapdoor" for field-table types a JS value cannot imply. Decoding yields
 * this shape for timestamps ('T') and decimals ('D'); other tags decode to plain values.
 */
export type TypedFieldValue =
  | { readonly '!': 'timestamp'; readonly value: number }
  | { readonly '!': 'decimal'; readonly value: Decimal }
  | {
      readonly '!': 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'float' | 'double'
      readonly value: number
    }

export type FieldValue = string | number | boolean | null | Buffer | TypedFieldValue | readonly FieldValue[] | FieldTable

/** An AMQP field-table. `undefined` entries are skipped when encoding. */
export interface FieldTable {
  readonly [key: string]: FieldValue | undefined
}

export type NoFields = Record<string, never>

// ---- connection (class 10) ----

export interface ConnectionStart {
  readonly versionMajor: number
  readonly versionMinor: number
  readonly serverProperties: FieldTable
  readonly mechanisms: Buffer
  readonly locales: Buffer
}
export interface ConnectionStartOk {
  readonly clientProperties: FieldTable
  readonly mechanism: string
  readonly response: Buffer
  readonly locale: string
}
export interface ConnectionSecure {
  readonly challenge: Buffer
}
export interface ConnectionSecureOk {
  readonly response: Buffer
}
export interface ConnectionTune {
  readonly channelMax: number
  readonly frameMax: number
  readonly heartbeat: number
}
export type ConnectionTuneOk = ConnectionTune
export interface ConnectionOpen {
  readonly virtualHost: string
  readonly capabilities?: string
  readonly insist?: boolean
}
export interface ConnectionOpenOk {
  readonly knownHosts?: string
}
export interface ConnectionClose {
  readonly replyCode: number
  readonly replyText: string
  readonly classId: number
  readonly methodId: number
}
export interface ConnectionBlocked {
  readonly reason: string
}
export interface ConnectionUpdateSecret {
  readonly newSecret: Buffer
  readonly reason: string
}

// ---- channel (class 20) ----

export interface ChannelOpen {
  readonly outOfBand?: string
}
export interface ChannelOpenOk {
  readonly channelId?: Buffer
}
export interface ChannelFlow {
  readonly active: boolean
}
export type ChannelFlowOk = ChannelFlow
export type ChannelClose = ConnectionClose

// ---- access (class 30, deprecated; RabbitMQ still answers it) ----

export interface AccessRequest {
  readonly realm: string
  readonly exclusive: boolean
  readonly passive: boolean
  readonly active: boolean
  readonly write: boolean
  readonly read: boolean
}
export interface AccessRequestOk {
  readonly ticket: number
}

// ---- exchange (class 40) ----

export interface ExchangeDeclare {
  readonly ticket?: number
  readonly exchange: string
  readonly type: string
  readonly passive: boolean
  readonly durable: boolean
  readonly autoDelete: boolean
  readonly internal: boolean
  readonly nowait: boolean
  readonly arguments: FieldTable
}
export interface ExchangeDelete {
  readonly ticket?: number
  readonly exchange: string
  readonly ifUnused: boolean
  readonly nowait: boolean
}
/** exchange.bind / exchange.unbind (RabbitMQ extension): destination ← source. */
export interface ExchangeBind {
  readonly ticket?: number
  readonly destination: string
  readonly source: string
  readonly routingKey: string
  readonly nowait: boolean
  readonly arguments: FieldTable
}
export type ExchangeUnbind = ExchangeBind

// ---- queue (class 50) ----

export interface QueueDeclare {
  readonly ticket?: number
  readonly queue: string
  readonly passive: boolean
  readonly durable: boolean
  readonly exclusive: boolean
  readonly autoDelete: boolean
  readonly nowait: boolean
  readonly arguments: FieldTable
}
export interface QueueDeclareOk {
  readonly queue: string
  readonly messageCount: number
  readonly consumerCount: number
}
export interface QueueBind {
  readonly ticket?: number
  readonly queue: string
  readonly exchange: string
  readonly routingKey: string
  readonly nowait: boolean
  readonly arguments: FieldTable
}
export interface QueuePurge {
  readonly ticket?: number
  readonly queue: string
  readonly nowait: boolean
}
export interface QueuePurgeOk {
  readonly messageCount: number
}
export interface QueueDelete {
  readonly ticket?: number
  readonly queue: string
  readonly ifUnused: boolean
  readonly ifEmpty: boolean
  readonly nowait: boolean
}
export type QueueDeleteOk = QueuePurgeOk
/** queue.unbind has no nowait bit. */
export interface QueueUnbind {
  readonly ticket?: number
  readonly queue: string
  readonly exchange: string
  readonly routingKey: string
  readonly arguments: FieldTable
}

// ---- basic (class 60) ----

export interface BasicQos {
  readonly prefetchSize: number
  readonly prefetchCount: number
  readonly global: boolean
}
export interface BasicConsume {
  readonly ticket?: number
  readonly queue: string
  readonly consumerTag: string
  readonly noLocal: boolean
  readonly noAck: boolean
  readonly exclusive: boolean
  readonly nowait: boolean
  readonly arguments: FieldTable
}
export interface BasicConsumeOk {
  readonly consumerTag: string
}
export interface BasicCancel {
  readonly consumerTag: string
  readonly nowait: boolean
}
export type BasicCancelOk = BasicConsumeOk
export interface BasicPublish {
  readonly ticket?: number
  readonly exchange: string
  readonly routingKey: string
  readonly mandatory: boolean
  readonly immediate: boolean
}
export interface BasicReturn {
  readonly replyCode: number
  readonly replyText: string
  readonly exchange: string
  readonly routingKey: string
}
export interface BasicDeliver {
  readonly consumerTag: string
  readonly deliveryTag: number
  readonly redelivered: boolean
  readonly exchange: string
  readonly routingKey: string
}
export interface BasicGet {
  readonly ticket?: number
  readonly queue: string
  readonly noAck: boolean
}
export interface BasicGetOk {
  readonly deliveryTag: number
  readonly redelivered: boolean
  readonly exchange: string
  readonly routingKey: string
  readonly messageCount: number
}
export interface BasicGetEmpty {
  readonly clusterId?: string
}
export interface BasicAck {
  readonly deliveryTag: number
  readonly multiple: boolean
}
export interface BasicReject {
  readonly deliveryTag: number
  readonly requeue: boolean
}
export interface BasicRecover {
  readonly requeue: boolean
}
export interface BasicNack {
  readonly deliveryTag: number
  readonly multiple: boolean
  readonly requeue: boolean
}

// ---- confirm (class 85, RabbitMQ extension) ----

export interface ConfirmSelect {
  readonly nowait: boolean
}

/** Content header properties of class basic (the only content class in 0-9-1). */
export interface BasicProperties {
  readonly contentType?: string
  readonly contentEncoding?: string
  readonly headers?: FieldTable
  /** 1 = transient, 2 = persistent */
  readonly deliveryMode?: number
  readonly priority?: number
  readonly correlationId?: string
  readonly replyTo?: string
  /** milliseconds, as a decimal string (RabbitMQ per-message TTL) */
  readonly expiration?: string
  readonly messageId?: string
  /** seconds since the epoch */
  readonly timestamp?: number
  readonly type?: string
  readonly userId?: string
  readonly appId?: string
  readonly clusterId?: string
}

/** Fields of each method, keyed by amqplib's method name. */
export interface MethodFieldsByName {
  ConnectionStart: ConnectionStart
  ConnectionStartOk: ConnectionStartOk
  ConnectionSecure: ConnectionSecure
  ConnectionSecureOk: ConnectionSecureOk
  ConnectionTune: ConnectionTune
  ConnectionTuneOk: ConnectionTuneOk
  ConnectionOpen: ConnectionOpen
  ConnectionOpenOk: ConnectionOpenOk
  ConnectionClose: ConnectionClose
  ConnectionCloseOk: NoFields
  ConnectionBlocked: ConnectionBlocked
  ConnectionUnblocked: NoFields
  ConnectionUpdateSecret: ConnectionUpdateSecret
  ConnectionUpdateSecretOk: NoFields
  ChannelOpen: ChannelOpen
  ChannelOpenOk: ChannelOpenOk
  ChannelFlow: ChannelFlow
  ChannelFlowOk: ChannelFlowOk
  ChannelClose: ChannelClose
  ChannelCloseOk: NoFields
  AccessRequest: AccessRequest
  AccessRequestOk: AccessRequestOk
  ExchangeDeclare: ExchangeDeclare
  ExchangeDeclareOk: NoFields
  ExchangeDelete: ExchangeDelete
  ExchangeDeleteOk: NoFields
  ExchangeBind: ExchangeBind
  ExchangeBindOk: NoFields
  ExchangeUnbind: ExchangeUnbind
  ExchangeUnbindOk: NoFields
  QueueDeclare: QueueDeclare
  QueueDeclareOk: QueueDeclareOk
  QueueBind: QueueBind
  QueueBindOk: NoFields
  QueuePurge: QueuePurge
  QueuePurgeOk: QueuePurgeOk
  QueueDelete: QueueDelete
  QueueDeleteOk: QueueDeleteOk
  QueueUnbind: QueueUnbind
  QueueUnbindOk: NoFields
  BasicQos: BasicQos
  BasicQosOk: NoFields
  BasicConsume: BasicConsume
  BasicConsumeOk: BasicConsumeOk
  BasicCancel: BasicCancel
  BasicCancelOk: BasicCancelOk
  BasicPublish: BasicPublish
  BasicReturn: BasicReturn
  BasicDeliver: BasicDeliver
  BasicGet: BasicGet
  BasicGetOk: BasicGetOk
  BasicGetEmpty: BasicGetEmpty
  BasicAck: BasicAck
  BasicReject: BasicReject
  BasicRecoverAsync: BasicRecover
  BasicRecover: BasicRecover
  BasicRecoverOk: NoFields
  BasicNack: BasicNack
  TxSelect: NoFields
  TxSelectOk: NoFields
  TxCommit: NoFields
  TxCommitOk: NoFields
  TxRollback: NoFields
  TxRollbackOk: NoFields
  ConfirmSelect: ConfirmSelect
  ConfirmSelectOk: NoFields
}

export type MethodName = keyof MethodFieldsByName
