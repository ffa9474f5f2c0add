// Why a remote refused one message, and whether sending it again could ever succeed. A permanent
// refusal is about the message itself (too large for the remote, a topic the bridge may not write,
// a payload the remote finds invalid): the bridge dead-letters that message and goes on with the
// next, instead of sending it again forever. Everything else (a full queue, a lost link, a missing
// exchange an operator may still declare) is transient: the link ends and the message is sent again.

export class MessageRefusal extends Error {
  constructor(
    message: string,
    /** true: the same message would be refused again. */
    readonly permanent: boolean
  ) {
    super(message)
    this.name = 'MessageRefusal'
  }
}

export function isPermanentRefusal(err: unknown): err is MessageRefusal {
  return err instanceof MessageRefusal && err.permanent
}

/**
 * MQTT 5 PUBACK / PUBREC reason codes that refuse the message itself. Not among them: 0x80
 * Unspecified error and 0x83 Implementation specific error (a broker's transient trouble as often
 * as not), 0x91 Packet Identifier in use (session state) and 0x97 Quota exceeded (a full remote,
 * which drains).
 */
const PERMANENT_MQTT_REASONS: ReadonlyMap<number, string> = new Map([
  [0x87, 'Not authorized'],
  [0x90, 'Topic Name invalid'],
  [0x95, 'Packet too large'],
  [0x99, 'Payload format invalid']
])

export function mqttAckRefusal(reasonCode: number | undefined, detail: string): MessageRefusal {
  const code = reasonCode ?? 0x80
  const name = PERMANENT_MQTT_REASONS.get(code)
  const hex = `0x${code.toString(16).padStart(2, '0')}`
  return new MessageRefusal(`the remote refused a message (reason ${hex}${name === undefined ? '' : ` ${name}`}): ${detail}`, name !== undefined)
}

/** RabbitMQ's (and Wharf's) channel error for a body over its max_message_size (406 PRECONDITION_FAILED). */
const AMQP_SIZE_REFUSAL = /message size (\d+) is larger than configured max size (\d+)/

/** The remote's body size limit named in a channel or connection error, or null. */
export function amqpBodyLimitIn(errorText: string): number | null {
  const m = AMQP_SIZE_REFUSAL.exec(errorText)
  return m === null ? null : Number(m[2])
}

/**
 * A topic permission refusing one routing key (RabbitMQ 3.x: "ACCESS_REFUSED - access to topic 'a.b'
 * in exchange 'amq.topic' in vhost '/' refused for user 'edge'"; Wharf says "write access to topic
 * ..."). It closes the channel: the message itself is refused, not the bridge (a refusal of the
 * whole exchange names no topic).
 */
const AMQP_TOPIC_REFUSAL = /access to topic '((?:[^']|'(?! in exchange '))*)' in exchange '/

/** The routing key a channel or connection error refuses by topic permission, or null. */
export function amqpRefusedRoutingKeyIn(errorText: string): string | null {
  if (!/\b403\b|ACCESS.REFUSED/.test(errorText)) return null
  const m = AMQP_TOPIC_REFUSAL.exec(errorText)
  return m === null ? null : (m[1] as string)
}
