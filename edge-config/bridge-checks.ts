// Checks of the `bridges:` entries: the remote URL, names, prefixes, and the checks between a
// bridge's fields (its filters against its prefixes, TLS against the URL's scheme, its backoff).
import type { BridgeConfig, WharfConfig } from './config-types.ts'
import type { Fail } from './cross-checks.ts'
import { topicNameProblem } from '../adapters/mqtt/topic-grammar.ts'

/** The URL schemes a bridge speaks, and whether they are TLS. */
export const BRIDGE_SCHEMES: Readonly<Record<string, { kind: 'amqp' | 'mqtt'; tls: boolean }>> = {
  'amqp:': { kind: 'amqp', tls: false },
  'amqps:': { kind: 'amqp', tls: true },
  'mqtt:': { kind: 'mqtt', tls: false },
  'mqtts:': { kind: 'mqtt', tls: true },
  'ws:': { kind: 'mqtt', tls: false },
  'wss:': { kind: 'mqtt', tls: true }
}

export function bridgeUrlProblem(text: string): string | null {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'is not a URL'
  }
  if (BRIDGE_SCHEMES[url.protocol] === undefined) return `has scheme ${url.protocol.slice(0, -1)}`
  if (url.hostname === '') return 'has no host'
  return null
}

/** A bridge URL as it may be shown (logs, errors, the admin API): the password replaced. */
export function redactUrl(text: unknown): unknown {
  if (typeof text !== 'string') return text
  try {
    const url = new URL(text)
    if (url.password === '') return text
    url.password = '***'
    return url.toString()
  } catch {
    return text.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
  }
}

/** Bridge names appear in queue names (bridge/<name>), metric labels and client ids. */
export function bridgeNameProblem(name: string): string | null {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name) ? null : 'is not 1-64 letters, digits, _, . and - (starting with a letter or digit)'
}

/** A prefix is the start of a topic: no wildcards, nothing the topic grammar refuses. '' is none. */
export function topicPrefixProblem(prefix: string): string | null {
  if (prefix === '') return null
  return topicNameProblem(prefix)
}

/** An AMQP exchange name on the remote: a short string; '' (the default exchange) cannot be bound. */
export function remoteExchangeProblem(name: string): string | null {
  if (name === '') return 'is empty (the default exchange cannot be bound)'
  if (Buffer.byteLength(name) > 255) return 'is longer than 255 bytes (AMQP short string)'
  return null
}

export function bridgeChecks(c: WharfConfig, fail: Fail): void {
  const seen = new Map<string, number>()
  c.bridges.forEach((b, i) => {
    const at = `bridges[${i}]`
    const first = seen.get(b.name)
    if (first !== undefined) fail(`${at}.name`, b.name, `must be unique (already used by bridges[${first}])`)
    seen.set(b.name, i)
    checkOne(b, at, fail)
  })
  sharedRemoteNames(c.bridges, fail)
}

/**
 * Names at the remote that two bridges to the same remote cannot share. An MQTT client id: the
 * remote keeps one connection per id, so each bridge's connect took the session over from the other
 * without end (observed with Mosquitto: 9 reconnects of each in 4 s), and their subscriptions mixed
 * in one session. An AMQP downlink queue: two consumers of it would each get part of the commands.
 * The defaults carry the bridge's name, so only names set by hand can meet.
 */
function sharedRemoteNames(bridges: readonly BridgeConfig[], fail: Fail): void {
  const used = new Map<string, number>()
  bridges.forEach((b, i) => {
    const url = new URL(b.url)
    const kind = BRIDGE_SCHEMES[url.protocol]?.kind
    const remote = `${kind}://${url.host}${kind === 'amqp' ? url.pathname : ''}`
    const named =
      kind === 'mqtt' && b.mqtt.clientId !== null
        ? {
            field: 'mqtt.clientId',
            value: b.mqtt.clientId,
            why: 'the remote keeps one connection per client id: two bridges would take it over from each other without end'
          }
        : kind === 'amqp' && b.amqp.queue !== null && b.in.topics.length > 0
          ? { field: 'amqp.queue', value: b.amqp.queue, why: 'two bridges consuming one downlink queue would each get part of the commands' }
          : null
    if (named === null) return
    const key = `${remote}\u0000${named.field}\u0000${named.value}`
    const first = used.get(key)
    if (first !== undefined)
      fail(`bridges[${i}].${named.field}`, named.value, `must differ from bridges[${first}]'s, a bridge to the same remote ${remote}: ${named.why}`)
    used.set(key, i)
  })
}

function checkOne(b: BridgeConfig, at: string, fail: Fail): void {
  if (b.out.topics.length === 0 && b.in.topics.length === 0)
    fail(`${at}.out.topics`, b.out.topics, 'must list at least one filter, or in.topics must (a bridge with neither carries nothing)')
  const underPrefix = (dir: 'out' | 'in', prefixField: 'localPrefix' | 'remotePrefix'): void => {
    const prefix = b[dir][prefixField]
    if (prefix === '') return
    b[dir].topics.forEach((f, j) => {
      if (!f.startsWith(prefix))
        fail(`${at}.${dir}.topics[${j}]`, f, `must start with ${dir}.${prefixField} '${prefix}' (the prefix is traded for the other side's)`)
    })
  }
  underPrefix('out', 'localPrefix')
  underPrefix('in', 'remotePrefix')
  const scheme = BRIDGE_SCHEMES[new URL(b.url).protocol]
  const t = b.tls
  if (!scheme?.tls) {
    for (const key of ['caFile', 'certFile', 'keyFile', 'serverName'] as const) {
      if (t[key] !== null) fail(`${at}.tls.${key}`, t[key], `is only for TLS URLs (amqps://, mqtts://, wss://); url is ${new URL(b.url).protocol}//`)
    }
  }
  if ((t.certFile === null) !== (t.keyFile === null)) {
    const [missing, given] = t.certFile === null ? ['certFile', 'keyFile'] : ['keyFile', 'certFile']
    fail(`${at}.tls.${missing}`, null, `must be set together with ${at}.tls.${given} (a client certificate needs its key)`)
  }
  if (b.reconnectMaxMs < b.reconnectInitialMs) fail(`${at}.reconnectMaxMs`, b.reconnectMaxMs, `must be >= reconnectInitialMs (${b.reconnectInitialMs} ms)`)
}
