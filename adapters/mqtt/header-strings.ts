// AMQP header values, content types and reply-to addresses as the UTF-8 strings of an MQTT 5
// PUBLISH. An MQTT string never holds U+0000 [MQTT-1.5.4-2] nor ill-formed UTF-8 [MQTT-1.5.4-1], and
// a Response Topic is a Topic Name [MQTT-3.3.2-14]: a client receiving anything else has a Malformed
// Packet (or a Protocol Error) and closes. AMQP allows all of it, so what has no MQTT form is left
// out, as RabbitMQ 3.13 leaves it out (mc_mqtt amqpl_header_to_user_property): numbers, booleans and
// timestamps become their decimal text, void the empty string; tables, arrays, decimals, and byte
// arrays that are not UTF-8 text, have none.
import { isWellFormedUtf8, topicNameProblem } from './topic-grammar.ts'

/** s, when it can travel as an MQTT UTF-8 string; else undefined. */
export function mqttString(s: string): string | undefined {
  return s.includes('\u0000') ? undefined : s
}

/** The User Property value for an AMQP header value, or undefined when it has none. */
export function userPropertyValue(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return mqttString(v)
    case 'number':
    case 'bigint':
      return String(v)
    case 'boolean':
      return v ? 'true' : 'false'
    case 'object':
      break
    default:
      return undefined
  }
  if (v === null) return '' // void
  if (Buffer.isBuffer(v)) return isWellFormedUtf8(v) ? mqttString(v.toString('utf8')) : undefined
  if (Array.isArray(v)) return undefined
  // amqplib's typed values: { '!': 'timestamp' | 'int8' | ... | 'double', value: number }; a decimal's value is an object.
  const typed = v as { readonly '!'?: unknown; readonly value?: unknown }
  if (typeof typed['!'] === 'string' && typeof typed.value === 'number') return String(typed.value)
  return undefined // a table, a decimal
}

/** The Response Topic for an AMQP reply-to already turned into a topic, or undefined when it is no Topic Name (empty, a wildcard, U+0000). */
export function responseTopicOf(topic: string): string | undefined {
  return topicNameProblem(topic) === null ? topic : undefined
}
