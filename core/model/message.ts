// A message as the core holds it: stored once, referenced by every queue entry it was routed to.
// Properties are the model's (RabbitMQ's basic properties); `encodedProperties` is their AMQP 0-9-1
// encoding when the publisher sent them that way, kept so that deliveries and storage forward the
// publisher's bytes as they are (no re-encoding, no field-table type drift).
import { preconditionFailed } from '../errors.ts'

/** A field-table value as decoded (string, number, boolean, null, Buffer, list, table, typed value). */
export type ArgumentValue = unknown
export type Arguments = Readonly<Record<string, ArgumentValue>>

export interface MessageProperties {
  readonly contentType?: string
  readonly contentEncoding?: string
  readonly headers?: Arguments
  /** 1 = transient, 2 = persistent */
  readonly deliveryMode?: number
  readonly priority?: number
  readonly correlationId?: string
  readonly replyTo?: string
  /** per-message TTL in milliseconds, as a decimal string */
  readonly expiration?: string
  readonly messageId?: string
  readonly timestamp?: number
  readonly type?: string
  readonly userId?: string
  readonly appId?: string
  readonly clusterId?: string
}

/**
 * Keys a message is routed by besides its routing key (AMQP's sender-selected distribution: CC keys
 * are shown, BCC keys hidden), kept with it: a dead-lettering without a routing key of its own routes
 * by them again, as RabbitMQ routes by the routing keys the message was published with.
 */
export interface ExtraRoutingKeys {
  /** Listed in a death's routing-keys (AMQP CC; its header stays in the properties too). */
  readonly shown: readonly string[]
  /** Routed by, listed nowhere (AMQP BCC; its header is taken out before the message is stored). */
  readonly hidden: readonly string[]
}

export class Message {
  /** Row id in the messages table once a durable copy was written (set inside the store's write). */
  storeId: number | null = null
  /**
   * Stored entries that reference the row: as written, or the row's refs as read back (at start, or
   * paged back in); 0 when not stored. 1 lets an ack delete the row without counting (the store's
   * fast range delete). Never below the row's refs, so it can only miss that shortcut.
   */
  storedRefs = 0
  /**
   * Who published it (an adapter's connection or session object), in memory only: for no-local
   * (AMQP basic.consume no-local, MQTT 5 subscription option No Local). Not stored.
   */
  publisher: object | null = null

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly properties: MessageProperties,
    readonly body: Buffer,
    readonly publishedAtMs: number,
    readonly encodedProperties: Buffer | null,
    /** null for most messages: routed by routingKey alone. Never an empty pair. */
    readonly extraRoutingKeys: ExtraRoutingKeys | null = null
  ) {}

  get persistent(): boolean {
    return this.properties.deliveryMode === 2
  }

  get bodyBytes(): number {
    return this.body.length
  }
}

const EXPIRATION_PATTERN = /^\d{1,15}$/

/**
 * Per-message TTL in ms from the expiration property, or undefined. As RabbitMQ, anything other
 * than a non-negative integer in decimal is refused: "invalid expiration '<value>': no_integer".
 */
export function messageTtlMs(properties: MessageProperties): number | undefined {
  const text = properties.expiration
  if (text === undefined) return undefined
  if (!EXPIRATION_PATTERN.test(text)) throw preconditionFailed(`invalid expiration '${text}': no_integer`)
  return Number(text)
}
