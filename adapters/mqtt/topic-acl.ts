// Mosquitto-style MQTT topic ACLs: per-user publish/subscribe pattern lists, auth.defaultAcl for everyone
// else, %u and %c substituted. Pure: patterns are compiled once, checks do no I/O.
import type { AclConfig, WharfConfig } from '../../edge-config/config-types.ts'
import { parseSharedFilter, topicFilterProblem, topicNameProblem } from './topic-grammar.ts'

export interface TopicAcl {
  canPublish(username: string | null, clientId: string, topic: string): boolean
  canSubscribe(username: string | null, clientId: string, filter: string): boolean
}

/** One level of a compiled pattern; a template level holds %u/%c and is resolved per check. */
type Level =
  | { kind: 'literal', text: string }
  | { kind: 'single' }
  | { kind: 'multi' }
  | { kind: 'template', text: string }

/** null: an invalid pattern, which matches nothing. */
type Pattern = Level[] | null
/** undefined: no list, everything allowed. */
type PatternList = Pattern[] | undefined
/** A pattern with %u/%c substituted; null when the substitution is refused. */
type ResolvedLevel = '+' | '#' | { literal: string }
type Resolved = ResolvedLevel[] | null

interface Identity { username: string | null, clientId: string }

export function createTopicAcl (auth: WharfConfig['auth']): TopicAcl {
  const defaults = compileAcl(auth.defaultAcl)
  const users = new Map(auth.users.map(u => [u.username, compileAcl(u)]))
  const listFor = (username: string | null, dir: 'publish' | 'subscribe'): PatternList =>
    (username === null ? undefined : users.get(username)?.[dir]) ?? defaults[dir]

  return {
    canPublish (username, clientId, topic) {
      const patterns = listFor(username, 'publish')
      if (patterns === undefined) return true
      const topicLevels = parseTopic(topic)
      if (topicLevels === null) return false
      return patterns.some(p => topicMatches(resolve(p, { username, clientId }), topicLevels))
    },
    canSubscribe (username, clientId, filter) {
      const patterns = listFor(username, 'subscribe')
      if (patterns === undefined) return true
      const filterLevels = parseFilter(stripSharePrefix(filter))
      if (filterLevels === null) return false
      return patterns.some(p => filterCovered(resolve(p, { username, clientId }), filterLevels))
    }
  }
}

/** A topic filter as MQTT allows it, with %u/%c allowed anywhere inside a level. For config validation. */
export function isValidAclPattern (pattern: string): boolean {
  return parseFilter(pattern) !== null
}

function compileAcl (acl: AclConfig): { publish: PatternList, subscribe: PatternList } {
  return { publish: acl.publish?.map(compilePattern), subscribe: acl.subscribe?.map(compilePattern) }
}

function compilePattern (pattern: string): Pattern {
  const levels = parseFilter(pattern)
  // Config validation rejects bad patterns; one that slips through matches nothing.
  if (levels === null) return null
  return levels.map((text): Level => {
    if (text === '+') return { kind: 'single' }
    if (text === '#') return { kind: 'multi' }
    if (text.includes('%u') || text.includes('%c')) return { kind: 'template', text }
    return { kind: 'literal', text }
  })
}

/**
 * Substitutes %u and %c. A value holding '+', '#' or '/' would turn a literal level into a wildcard or
 * into several levels, so such a substitution (and %u for an anonymous client) makes the pattern match nothing.
 */
function resolve (pattern: Pattern, who: Identity): Resolved {
  if (pattern === null) return null
  const out: ResolvedLevel[] = []
  for (const level of pattern) {
    if (level.kind === 'single') out.push('+')
    else if (level.kind === 'multi') out.push('#')
    else if (level.kind === 'literal') out.push({ literal: level.text })
    else {
      const text = substitute(level.text, who)
      if (text === null) return null
      out.push({ literal: text })
    }
  }
  return out
}

function substitute (template: string, who: Identity): string | null {
  let failed = false
  const text = template.replace(/%[uc]/g, token => {
    const value = token === '%u' ? who.username : who.clientId
    if (value === null || /[+#/]/.test(value)) failed = true
    return value ?? ''
  })
  return failed ? null : text
}

/** Publish: the topic matches the pattern, with MQTT's rules for '+', '#' and '$' topics [MQTT-4.7.2-1]. */
function topicMatches (pattern: Resolved, topic: string[]): boolean {
  if (pattern === null) return false
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as ResolvedLevel
    if (p === '#') return !(i === 0 && topic[0]?.startsWith('$'))
    const level = topic[i]
    if (level === undefined) return false
    if (p === '+') {
      if (i === 0 && level.startsWith('$')) return false
    } else if (p.literal !== level) {
      return false
    }
  }
  return pattern.length === topic.length
}

/**
 * Subscribe: every topic the filter can match is matched by the pattern. Pattern 'a/#' covers 'a/+/c'
 * and 'a' ('#' includes the parent level); pattern 'a/+' does not cover 'a/#'.
 */
function filterCovered (pattern: Resolved, filter: string[]): boolean {
  if (pattern === null) return false
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as ResolvedLevel
    const f = filter[i]
    const dollarLiteral = i === 0 && f !== undefined && f !== '+' && f !== '#' && f.startsWith('$')
    if (p === '#') return !dollarLiteral
    // The filter ended but the pattern goes on: only a final '#' (handled above) takes in the parent level.
    if (f === undefined) return false
    if (f === '#') return false
    if (p === '+') {
      if (dollarLiteral) return false
    } else if (f === '+' || p.literal !== f) {
      return false
    }
  }
  return pattern.length === filter.length
}

function stripSharePrefix (filter: string): string {
  const shared = parseSharedFilter(filter)
  if (shared === null) return filter
  return typeof shared === 'string' ? '' : shared.filter // a malformed one matches no pattern ('' fails parseFilter)
}

function parseTopic (topic: string): string[] | null {
  return topicNameProblem(topic) === null ? topic.split('/') : null
}

/** A filter's levels; %u/%c templates are plain text to the grammar. */
function parseFilter (filter: string): string[] | null {
  return topicFilterProblem(filter) === null ? filter.split('/') : null
}
