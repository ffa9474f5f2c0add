// Names the configuration hands to the broker (MQTT filters, exchange and stream names, S3 endpoints),
// checked at startup so a bad one is refused with its field instead of failing later in a declare.
// Each check returns why a value is refused, or null when it is fine.
import { isIP } from 'node:net'
import { reservedQueuePrefixOf } from '../core/model/names.ts'
import { parseSharedFilter, topicFilterProblem as mqttFilterProblem } from '../adapters/mqtt/topic-grammar.ts'

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8')

/** AMQP short strings (exchange and queue names) carry an 8-bit length. */
const shortStringBytesMax = 255
/** MQTT strings carry a 16-bit length [MQTT-1.5.3]. */
const mqttStringBytesMax = 65_535

/** An MQTT topic filter: '+' and '#' only as whole levels, '#' only last [MQTT-4.7.1-1] [MQTT-4.7.1-2]. */
export function topicFilterProblem(filter: string): string | null {
  if (filter === '') return 'is empty' // [MQTT-4.7.3-1]
  if (filter.includes('\u0000')) return 'contains U+0000' // [MQTT-4.7.3-2]
  if (utf8Bytes(filter) > mqttStringBytesMax) return `is longer than ${mqttStringBytesMax} bytes`
  if (parseSharedFilter(filter) !== null) return 'is a shared subscription ($share/...); give the topic filter itself'
  const problem = mqttFilterProblem(filter) // the MQTT adapter owns the grammar
  return problem
}

/** A stream queue name a client could also declare: not reserved for the broker's own queues. */
export function streamNameProblem(name: string): string | null {
  if (name === '') return 'is empty'
  if (utf8Bytes(name) > shortStringBytesMax) return `is longer than ${shortStringBytesMax} bytes (AMQP short string)`
  const prefix = reservedQueuePrefixOf(name)
  return prefix === undefined ? null : `starts with '${prefix}', reserved for the broker's own queues`
}

/** The exchange MQTT publishes to: a topic exchange, so of the amq.* exchanges only amq.topic. */
export function mqttExchangeProblem(name: string): string | null {
  if (name === '') return 'is empty (the default exchange cannot be bound)'
  if (utf8Bytes(name) > shortStringBytesMax) return `is longer than ${shortStringBytesMax} bytes (AMQP short string)`
  if (name.startsWith('amq.') && name !== 'amq.topic') return 'is a predeclared amq.* exchange that is not a topic exchange (of those only amq.topic is)'
  return null
}

/** An S3 endpoint: http(s)://host[:port][/path], credentials not in the URL (they come from AWS_*). */
export function s3EndpointProblem(endpoint: string): string | null {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return 'is not a URL'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `has scheme ${url.protocol.slice(0, -1)}; http or https is needed`
  if (url.hostname === '') return 'has no host'
  if (url.username !== '' || url.password !== '') return 'carries credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead'
  if (url.search !== '' || url.hash !== '') return 'has a query or fragment'
  return null
}

/** An S3 region name as stores use them: us-east-1, eu-central-1, garage, auto. */
export function s3RegionProblem(region: string): string | null {
  return /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(region) ? null : 'is not a region name (letters, digits, - and _, at most 64)'
}

/** A bind address: an IPv4 or IPv6 address, or a host name the resolver turns into one (localhost). */
export function bindHostProblem(host: string): string | null {
  if (isIP(host) !== 0) return null
  if (host.length > 253) return 'is longer than 253 characters'
  const label = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/
  return host.split('.').every(l => label.test(l)) ? null : 'is neither an IP address nor a host name'
}
