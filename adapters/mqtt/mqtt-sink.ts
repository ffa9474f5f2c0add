// The MQTT sessions of one vhost as a core MessageSink. Its bindings on the MQTT exchange are the
// distinct filters MQTT clients subscribe with (one binding per filter however many clients use
// it), so core decides once per message whether MQTT gets it; aedes then hands it to each session
// whose subscription matches (live delivery, offline queue, retained store), which is the sink's
// own delivery, not a second routing.
import type { Binding } from '../../core/model/binding.ts'
import type { Message } from '../../core/model/message.ts'
import type { MessageSink } from '../../core/model/message-sink.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import { coreToMqttPublish, isRetained } from './message-mapping.ts'
import { filterToBindingKey } from './topic-mapping.ts'

/** aedes' own publish pipeline (store retained, deliver live, queue offline), before our guard. */
export type AedesPublish = (packet: object, client: object | null, done: (err?: Error | null) => void) => void

interface Origin {
  message: Message
  packet: object
  client: object | null
  /** QoS 0: nothing waits for a commit, so aedes' callback is handed straight to aedes. */
  done: ((err?: Error | null) => void) | null
}

export class MqttSink implements MessageSink {
  readonly kind = 'sink' as const
  readonly name = 'mqtt'
  readonly durable = false as const
  readonly exclusiveOwner = null
  readonly inbound = new Set<Binding>()
  /** The MQTT publish being routed now: core routes synchronously, so one slot is enough. */
  private current: Origin | null = null
  private readonly keyUsers = new Map<string, Set<string>>()
  /** Payload -> the core message it is the body of, while aedes queues it for sessions. */
  private readonly bodies = new WeakMap<object, Message>()

  constructor (
    private readonly vhost: Vhost,
    private readonly exchange: string,
    private readonly aedesPublish: AedesPublish
  ) {
    vhost.attachSink(exchange, this)
  }

  /**
   * Runs `publish` (core routing of `message`) knowing the MQTT packet it was made from, so aedes
   * gets the client's own packet (and client) if core routes the message here.
   */
  publishFrom<T> (message: Message, packet: object, client: object | null, publish: () => T): T {
    this.current = { message, packet, client, done: null }
    try {
      return publish()
    } finally {
      this.current = null
    }
  }

  /**
   * As publishFrom, for a publish nobody acknowledges (QoS 0): if core routes it here, aedes calls
   * `done` when it is through and this returns true; else false, and the caller calls `done`.
   */
  publishUnacknowledged (message: Message, packet: object, client: object | null, done: (err?: Error | null) => void, publish: () => unknown): boolean {
    const origin: Origin = { message, packet, client, done }
    this.current = origin
    try {
      publish()
    } finally {
      this.current = null
    }
    return origin.done === null
  }

  accept (message: Message, storedByCore: boolean): Promise<void> | undefined {
    // Only then can a session queue share core's row (see SessionQueues.shareCoreRow).
    if (storedByCore) this.bodies.set(message.body, message)
    const origin = this.current?.message === message ? this.current : null
    if (origin !== null && origin.done !== null) {
      const done = origin.done
      origin.done = null
      this.aedesPublish(origin.packet, origin.client, done)
      return undefined
    }
    const packet = origin?.packet ?? coreToMqttPublish(message)
    return new Promise((resolve, reject) => {
      this.aedesPublish(packet, origin?.client ?? null, err => { if (err) reject(err); else resolve() })
    })
  }

  /** The core message a payload is the body of (aedes hands session queues the payload, not the message). */
  messageOfBody (payload: unknown): Message | undefined {
    return typeof payload === 'object' && payload !== null ? this.bodies.get(payload) : undefined
  }

  wantsUnrouted (message: Message): boolean {
    // A retained message is stored for later subscribers even when nobody subscribes now.
    return isRetained(message)
  }

  // ---- bindings: one per distinct binding key ------------------------------------------------------
  // Keyed by binding key, not filter: `a/+` and a literal `a/*` are both `a.*`.

  /** A client subscribes with filter (idempotent per client and filter). */
  add (clientId: string, filter: string): void {
    const key = filterToBindingKey(filter)
    let users = this.keyUsers.get(key)
    if (users === undefined) {
      users = new Set()
      this.keyUsers.set(key, users)
      this.vhost.bindSink(this.exchange, this, key)
    }
    users.add(userOf(clientId, filter))
  }

  remove (clientId: string, filter: string): void {
    const key = filterToBindingKey(filter)
    const users = this.keyUsers.get(key)
    if (users === undefined || !users.delete(userOf(clientId, filter))) return
    if (users.size > 0) return
    this.keyUsers.delete(key)
    this.vhost.unbindSink(this.exchange, this, key)
  }

  /** Every filter of a client whose subscriptions are gone (clean session ended). */
  removeClient (clientId: string): void {
    const prefix = userOf(clientId, '')
    for (const users of [...this.keyUsers.values()]) {
      for (const user of [...users]) {
        if (user.startsWith(prefix)) this.remove(clientId, user.slice(prefix.length))
      }
    }
  }
}

const userOf = (clientId: string, filter: string): string => `${clientId}\u0000${filter}`
