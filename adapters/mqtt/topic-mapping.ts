// MQTT topics and filters on the core model, as RabbitMQ's MQTT plugin maps them: the one place
// where '/' and '.' trade places. A topic `a/b.c` is routing key `a.b/c` and back; in filters `+`
// is `*` (one word) and `#` stays `#` (zero or more words).

// Most topics have no '.', and replaceAll with a string is much cheaper than a callback regex.
const swapSeparators = (s: string): string => {
  if (!s.includes('.')) return s.replaceAll('/', '.')
  if (!s.includes('/')) return s.replaceAll('.', '/')
  return s.replace(/[./]/g, c => (c === '/' ? '.' : '/'))
}

/** PUBLISH topic -> routing key on the MQTT exchange. */
export function topicToRoutingKey (topic: string): string {
  return swapSeparators(topic)
}

/** Routing key of a message on the MQTT exchange -> the topic MQTT subscribers see. */
export function routingKeyToTopic (routingKey: string): string {
  return swapSeparators(routingKey)
}

/** SUBSCRIBE filter -> binding key on the MQTT exchange (a topic exchange). */
export function filterToBindingKey (filter: string): string {
  return filter.split('/').map(level => {
    if (level === '+') return '*'
    if (level === '#') return '#'
    return level.replace(/\./g, '/')
  }).join('.')
}

/** `$share/<group>/<filter>` [MQTT 5 §4.8.2, as EMQX and Mosquitto accept it on 3.1.1]. */
export interface SharedFilter { group: string, filter: string }

export function parseSharedFilter (filter: string): SharedFilter | null {
  if (!filter.startsWith('$share/')) return null
  const rest = filter.slice('$share/'.length)
  const slash = rest.indexOf('/')
  if (slash <= 0 || slash === rest.length - 1) return null
  const group = rest.slice(0, slash)
  if (group.includes('+') || group.includes('#')) return null
  return { group, filter: rest.slice(slash + 1) }
}

/** The core queue of one shared subscription group for one filter. */
export function sharedQueueName (s: SharedFilter): string {
  return `mqtt-share/${s.group}/${s.filter}`
}
