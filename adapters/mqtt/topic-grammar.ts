// The MQTT topic grammar, in one place: topic names and filters (validation), `$share/` filters,
// reserved `$` names, MQTT matching, and the mapping onto the core model as RabbitMQ's MQTT plugin
// does it: '/' and '.' trade places, in filters `+` is `*` (one word) and `#` stays `#`.

/** Why a topic name (PUBLISH) is not acceptable, or null. */
export function topicNameProblem(topic: string): string | null {
  if (topic.length === 0) return 'topic is empty' // [MQTT-4.7.3-1]
  if (topic.includes('+') || topic.includes('#')) return 'topic contains a wildcard' // [MQTT-3.3.2-2]
  return utf8Problem(topic)
}

/**
 * Why a Response Topic (of a PUBLISH or of a will) is not acceptable, or null: a responder publishes
 * to it, so it is held to the Topic Name rules, no wildcards and not empty [MQTT-3.3.2-14].
 */
export function responseTopicProblem(responseTopic: string | undefined): string | null {
  return responseTopic === undefined ? null : topicNameProblem(responseTopic)
}

/** Why a topic filter (SUBSCRIBE, UNSUBSCRIBE, ACL pattern) is not acceptable, or null. */
export function topicFilterProblem(filter: string): string | null {
  if (filter.length === 0) return 'filter is empty' // [MQTT-4.7.3-1]
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string
    if (level === '#') {
      if (i !== levels.length - 1) return "has '#' before the last level" // [MQTT-4.7.1-1]
    } else if (level !== '+' && (level.includes('#') || level.includes('+'))) {
      return `has a wildcard inside the level '${level}' ('+' and '#' stand alone)` // [MQTT-4.7.1-2]
    }
  }
  return utf8Problem(filter)
}

function utf8Problem(s: string): string | null {
  // [MQTT-1.5.4-2] A UTF-8 encoded string MUST NOT include an encoding of the null character U+0000.
  if (s.includes('\u0000')) return 'contains U+0000'
  // Ill-formed UTF-8 [MQTT-1.5.4-1] never gets this far: the codec refuses it (0x81).
  return null
}

/** Whether a string is well-formed UTF-8 (payload format indicator 1, §3.3.2.3.2). */
export function isWellFormedUtf8(bytes: Buffer): boolean {
  // Node 20: TextDecoder with fatal throws on ill-formed input.
  try {
    fatalDecoder.decode(bytes)
    return true
  } catch {
    return false
  }
}
const fatalDecoder = new TextDecoder('utf-8', { fatal: true })

/** Why a SUBSCRIBE or UNSUBSCRIBE filter, shared (`$share/`) or not, is not acceptable, or null. */
export function subscriptionFilterProblem(filter: string): string | null {
  const shared = parseSharedFilter(filter)
  return typeof shared === 'string' ? shared : topicFilterProblem(filter)
}

/** `$share/<group>/<filter>` [MQTT-4.8.2]. */
export interface SharedFilter {
  readonly group: string
  readonly filter: string
}

/** A `$share/` filter parsed; null when it is not one; a string when it is a malformed one. */
export function parseSharedFilter(filter: string): SharedFilter | string | null {
  if (!filter.startsWith('$share/')) return null
  const rest = filter.slice('$share/'.length)
  const slash = rest.indexOf('/')
  if (slash <= 0) return 'shared subscription without a share name' // [MQTT-4.8.2-1]
  const group = rest.slice(0, slash)
  if (group.includes('+') || group.includes('#')) return 'share name contains a wildcard' // [MQTT-4.8.2-2]
  const inner = rest.slice(slash + 1)
  const problem = topicFilterProblem(inner)
  if (problem !== null) return `shared subscription filter: ${problem}`
  return { group, filter: inner }
}

/** The core queue of one shared subscription group for one filter (MQTT 5 §4.8.2, as EMQX). */
export function sharedQueueName(s: SharedFilter): string {
  return `mqtt-share/${s.group}/${s.filter}`
}

/** Reserved names of the state MQTT keeps in core. */
export const SESSION_QUEUE_PREFIX = 'mqtt-session/'
export function sessionQueueName(clientId: string): string {
  return SESSION_QUEUE_PREFIX + clientId
}

/** Topics starting with '$' are the server's ($SYS); clients cannot publish to them [MQTT-4.7.2-1]. */
export function isReservedTopic(topic: string): boolean {
  return topic.charCodeAt(0) === 0x24
}

// ---- MQTT matching (the session decides per delivery which of its subscriptions matched) -------

/** A filter compiled for matching topic names. */
export interface CompiledFilter {
  readonly levels: readonly string[]
  readonly wildcardFirst: boolean
}

export function compileFilter(filter: string): CompiledFilter {
  const levels = filter.split('/')
  const first = levels[0]
  return { levels, wildcardFirst: first === '+' || first === '#' }
}

/** MQTT matching; a filter starting with a wildcard never matches a '$' topic [MQTT-4.7.2-1]. */
export function filterMatches(f: CompiledFilter, topic: string): boolean {
  if (f.wildcardFirst && isReservedTopic(topic)) return false
  const levels = f.levels
  let start = 0
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string
    if (level === '#') return true // also the parent level: 'a/#' matches 'a' (§4.7.1.2)
    if (start > topic.length) return false
    let end = topic.indexOf('/', start)
    if (end < 0) end = topic.length
    if (level !== '+' && (end - start !== level.length || !topic.startsWith(level, start))) return false
    start = end + 1
  }
  return start > topic.length
}

// ---- the core model's names ---------------------------------------------------------------------

// Most topics have no '.', and replaceAll with a string is much cheaper than a callback regex.
const swapSeparators = (s: string): string => {
  if (!s.includes('.')) return s.replaceAll('/', '.')
  if (!s.includes('/')) return s.replaceAll('.', '/')
  return s.replace(/[./]/g, c => (c === '/' ? '.' : '/'))
}

/** Conversions kept; past this many the cache starts over (devices publish to a few topics each). */
const SWAP_CACHE_ENTRIES_MAX = 1024
/** Longer names are converted each time rather than kept, so the cache stays under about 1 MB. */
const SWAP_CACHE_NAME_LENGTH_MAX = 256

// One PUBLISH converts its topic twice (permission check, core message) and back once per delivery,
// each a new string, and a device publishes to the same topics again and again: a lookup costs a
// fraction of a conversion (it was 4.6% of the broker's CPU in the QoS 1 fan-in bench). The swap is
// its own inverse, so both directions share one map.
const swapped = new Map<string, string>()

function cachedSwap(s: string): string {
  const known = swapped.get(s)
  if (known !== undefined) return known
  const out = swapSeparators(s)
  if (s.length <= SWAP_CACHE_NAME_LENGTH_MAX) {
    if (swapped.size >= SWAP_CACHE_ENTRIES_MAX) swapped.clear()
    swapped.set(s, out)
    swapped.set(out, s)
  }
  return out
}

/** PUBLISH topic -> routing key on the MQTT exchange. */
export function topicToRoutingKey(topic: string): string {
  return cachedSwap(topic)
}

/** Routing key of a message on the MQTT exchange -> the topic MQTT subscribers see. */
export function routingKeyToTopic(routingKey: string): string {
  return cachedSwap(routingKey)
}

/** SUBSCRIBE filter -> binding key on the MQTT exchange (a topic exchange). */
export function filterToBindingKey(filter: string): string {
  return filter
    .split('/')
    .map(level => {
      if (level === '+') return '*'
      if (level === '#') return '#'
      return level.replace(/\./g, '/')
    })
    .join('.')
}
