// Mosquitto-style topic ACL lists (auth.users[].publish / subscribe, auth.defaultAcl) as RabbitMQ topic
// permissions on the MQTT exchange: each list becomes one anchored regex over routing keys (the topic
// with '/' and '.' swapped, as MQTT publishes and subscriptions are routed), checked by core like any
// topic permission, so an AMQP client binding to the MQTT exchange meets the same rules.
//
//   '+'          one level, possibly empty, never a '#'  -> [^.#]*
//   '#' (last)   any number of levels, the parent too    -> 'a/#' = ^a(?:\..*)?$, '#' = .*
//   %u, %c       the username, the client id             -> {username}, {client_id}
//   a wildcard first level does not match '$' topics [MQTT-4.7.2-1]  -> (?!\$)
//
// A subscription is checked by its binding key ('a/+/c' -> 'a.*.c'), which a pattern matches only when
// it covers every topic the filter can match: 'a/#' takes 'a.*.c', 'a/+' does not take 'a.#'.
import type { TopicPermission, TopicVariables } from '../../core/auth/access-types.ts'
import type { AclConfig } from '../../edge-config/config-types.ts'
import { matchNothing } from '../../core/auth/permission-regex.ts'
import { topicFilterProblem } from './topic-grammar.ts'

/**
 * A user's (or anonymous clients') lists as the topic permission on the MQTT exchange: its own list where
 * it has one, else auth.defaultAcl's; undefined when no list applies at all (every topic allowed).
 */
export function aclTopicPermission(own: AclConfig | undefined, defaults: AclConfig, exchange: string): TopicPermission | undefined {
  const publish = own?.publish ?? defaults.publish
  const subscribe = own?.subscribe ?? defaults.subscribe
  if (publish === undefined && subscribe === undefined) return undefined
  return { exchange, write: aclPatternsToRegex(publish), read: aclPatternsToRegex(subscribe) }
}

/** One regex for a list of patterns; everything ('.*') for an absent list, nothing for an empty one. */
export function aclPatternsToRegex(patterns: readonly string[] | undefined): string {
  if (patterns === undefined) return '.*'
  const alternatives = patterns.filter(isValidAclPattern).map(patternRegex)
  return alternatives.length === 0 ? matchNothing : `^(?:${alternatives.join('|')})$`
}

/**
 * The variables of an MQTT client's checks. The username and client id are given in routing-key form
 * ('/' and '.' swapped), as a topic level holding them is: %u matches the level 'john.doe' for user
 * john.doe, and a client id holding '/' (several levels) matches nothing.
 */
export function mqttTopicVariables(username: string | null, clientId: string, vhost: string): TopicVariables {
  const vars: { username?: string; client_id: string; vhost: string } = { client_id: swap(clientId), vhost }
  if (username !== null) vars.username = swap(username)
  return vars
}

/** A topic filter as MQTT allows it, with %u/%c allowed anywhere inside a level. For config validation. */
export function isValidAclPattern(pattern: string): boolean {
  return topicFilterProblem(pattern) === null
}

function patternRegex(pattern: string): string {
  const levels = pattern.split('/')
  const multi = levels.at(-1) === '#'
  const fixed = (multi ? levels.slice(0, -1) : levels).map(levelRegex)
  const dollarGuard = levels[0] === '+' || levels[0] === '#' ? '(?!\\$)' : ''
  if (!multi) return dollarGuard + fixed.join('\\.')
  if (fixed.length === 0) return dollarGuard + '.*'
  return `${dollarGuard}${fixed.join('\\.')}(?:\\..*)?`
}

function levelRegex(level: string): string {
  if (level === '+') return '[^.#]*'
  // A level's own '.' is a '/' in the routing key; %u and %c become core's variables.
  return level
    .split(/(%[uc])/)
    .map(part => {
      if (part === '%u') return '{username}'
      if (part === '%c') return '{client_id}'
      return escapeRegexText(swap(part))
    })
    .join('')
}

function escapeRegexText(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function swap(s: string): string {
  return s.replace(/[./]/g, c => (c === '/' ? '.' : '/'))
}
