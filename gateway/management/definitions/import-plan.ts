// A definitions file (RabbitMQ's export format, or Wharf's own) as an ordered list of steps to apply
// — vhosts, users, permissions, topic permissions, exchanges, queues, bindings — and a list of what
// Wharf does not take, each with the reason: nothing in the file is skipped without a word. Pure: the
// plan says what to do, apply-import.ts does it.
import type { StoredUser, UserTag } from '../../../core/auth/access-types.ts'
import { userTags } from '../../../core/auth/access-types.ts'
import { isPasswordHash } from '../../../core/auth/password-hash.ts'
import { isRabbitHashingAlgorithm, rabbitStoredHash } from '../../../core/auth/rabbit-password-hash.ts'
import { isScramCredentials } from '../../../core/auth/scram-credentials.ts'
import { exchangeTypes } from '../../../core/model/exchange-types/index.ts'
import { queueTypes } from '../../../core/model/queue-types/index.ts'
import { reservedQueuePrefixOf } from '../../../core/model/names.ts'
import { planLimits, vhostLimitsComponent, type LimitsStep } from './limits-plan.ts'

type Json = Record<string, unknown>

export type Step =
  | { readonly kind: 'vhost'; readonly name: string }
  | { readonly kind: 'user'; readonly user: StoredUser }
  | { readonly kind: 'permission'; readonly user: string; readonly vhost: string; readonly configure: string; readonly write: string; readonly read: string }
  | {
      readonly kind: 'topic permission'
      readonly user: string
      readonly vhost: string
      readonly exchange: string
      readonly write: string
      readonly read: string
    }
  | {
      readonly kind: 'exchange'
      readonly vhost: string
      readonly name: string
      readonly type: string
      readonly durable: boolean
      readonly autoDelete: boolean
      readonly internal: boolean
      readonly arguments: Json
    }
  | { readonly kind: 'queue'; readonly vhost: string; readonly name: string; readonly durable: boolean; readonly autoDelete: boolean; readonly arguments: Json }
  | {
      readonly kind: 'binding'
      readonly vhost: string
      readonly source: string
      readonly destination: string
      readonly destinationType: 'queue' | 'exchange'
      readonly routingKey: string
      readonly arguments: Json
    }
  | LimitsStep

/** One item of the file Wharf does not take (or takes only in part), and why. */
export interface Unsupported {
  readonly kind: string
  readonly name: string
  readonly vhost?: string
  readonly reason: string
}

export interface ImportPlan {
  readonly steps: Step[]
  readonly unsupported: Unsupported[]
}

export interface PlanOptions {
  /** POST /api/definitions/{vhost}: every object goes into this vhost, and only objects are read. */
  readonly vhost?: string
  /** The user the broker has built in (guest while auth.guest.enabled), which a file does not replace. */
  readonly builtinUser?: string
}

/** Top-level fields that describe the file, not objects in it. */
const metadataFields = new Set(['rabbit_version', 'rabbitmq_version', 'product_name', 'product_version', 'explanation', 'wharf_version'])
const objectFields = ['vhosts', 'users', 'permissions', 'topic_permissions', 'exchanges', 'queues', 'bindings', 'parameters'] as const
/** Queues of RabbitMQ's MQTT plugin: its session state, bound to amq.topic; Wharf keeps MQTT sessions itself. */
const rabbitMqttQueue = /^mqtt-subscription-.*qos[012]$/

export function planImport(file: Json, opts: PlanOptions = {}): ImportPlan {
  const steps: Step[] = []
  const unsupported: Unsupported[] = []
  const skippedQueues = new Set<string>()
  const into = (item: Json): string => opts.vhost ?? text(item.vhost, '/')

  for (const [field, value] of Object.entries(file)) {
    if (metadataFields.has(field) || (objectFields as readonly string[]).includes(field)) continue
    for (const item of Array.isArray(value) ? value : [value])
      unsupported.push({ kind: field, name: nameOf(item), reason: `${field} are not supported by Wharf` })
  }

  if (opts.vhost === undefined) {
    for (const v of items(file.vhosts)) {
      const name = text(v.name, '')
      steps.push({ kind: 'vhost', name })
      // RabbitMQ's export has `limits: []` here and the limits themselves under parameters; an object is taken too.
      const own = planLimits('vhost', name, v.limits, unsupported)
      if (own !== undefined) steps.push(own)
      const meta = v.metadata as Json | undefined
      if (
        text(v.description ?? meta?.description, '') !== '' ||
        nonEmpty(v.tags ?? meta?.tags) ||
        text(v.default_queue_type ?? meta?.default_queue_type, 'classic') !== 'classic'
      ) {
        unsupported.push({ kind: 'vhost metadata', name, reason: 'vhost description, tags and default queue type are not kept by Wharf' })
      }
    }
    const skippedUsers = new Set<string>()
    for (const u of items(file.users)) if (!planUser(u, opts, steps, unsupported)) skippedUsers.add(text(u.name, ''))
    const userSkipped = (kind: string, user: string, vhost: string): boolean => {
      if (!skippedUsers.has(user)) return false
      unsupported.push({
        kind,
        name: user,
        vhost,
        reason: user === opts.builtinUser ? `the built-in '${user}' has fixed permissions (all of vhost '/')` : `its user '${user}' is not imported`
      })
      return true
    }
    for (const p of items(file.permissions)) {
      const user = text(p.user, '')
      const vhost = text(p.vhost, '/')
      if (userSkipped('permission', user, vhost)) continue
      steps.push({ kind: 'permission', user, vhost, configure: text(p.configure, ''), write: text(p.write, ''), read: text(p.read, '') })
    }
    for (const p of items(file.topic_permissions)) {
      const user = text(p.user, '')
      const vhost = text(p.vhost, '/')
      if (userSkipped('topic permission', user, vhost)) continue
      steps.push({ kind: 'topic permission', user, vhost, exchange: text(p.exchange, ''), write: text(p.write, ''), read: text(p.read, '') })
    }
  }

  for (const p of items(file.parameters)) {
    if (p.component !== vhostLimitsComponent) {
      unsupported.push({ kind: 'parameters', name: nameOf(p), reason: 'parameters are not supported by Wharf (but vhost-limits)' })
      continue
    }
    const limits = planLimits('vhost', into(p), p.value, unsupported)
    if (limits !== undefined) steps.push(limits)
  }

  for (const x of items(file.exchanges)) {
    const name = text(x.name, '')
    const vhost = into(x)
    const type = text(x.type, '')
    if (!exchangeTypes.has(type)) {
      unsupported.push({ kind: 'exchange', name, vhost, reason: `exchange type '${type}' is not supported by Wharf (${[...exchangeTypes.keys()].join(', ')})` })
      continue
    }
    steps.push({
      kind: 'exchange',
      vhost,
      name,
      type,
      durable: bool(x.durable, true),
      autoDelete: bool(x.auto_delete, false),
      internal: bool(x.internal, false),
      arguments: args(x.arguments)
    })
  }

  for (const q of items(file.queues)) {
    const name = text(q.name, '')
    const vhost = into(q)
    const a = args(q.arguments)
    const type = q.type ?? a['x-queue-type']
    const skip = (reason: string): void => {
      skippedQueues.add(`${vhost}\u0000${name}`)
      unsupported.push({ kind: 'queue', name, vhost, reason })
    }
    if (rabbitMqttQueue.test(name)) {
      skip("a session queue of RabbitMQ's MQTT plugin: Wharf keeps MQTT sessions itself (mqtt-session/<client id>)")
      continue
    }
    const reserved = reservedQueuePrefixOf(name)
    if (reserved !== undefined) {
      skip(`queue names starting '${reserved}' are reserved`)
      continue
    }
    if (typeof type === 'string' && type !== 'classic' && !queueTypes.has(type)) {
      skip(`queue type '${type}' is not supported by Wharf (${[...queueTypes.keys()].join(', ')})`)
      continue
    }
    if (typeof type === 'string' && a['x-queue-type'] === undefined && type !== 'classic') a['x-queue-type'] = type
    steps.push({ kind: 'queue', vhost, name, durable: bool(q.durable, true), autoDelete: bool(q.auto_delete, false), arguments: a })
  }

  for (const b of items(file.bindings)) {
    const vhost = into(b)
    const source = text(b.source, '')
    const destination = text(b.destination, '')
    const destinationType = b.destination_type === 'exchange' ? 'exchange' : 'queue'
    const name = `${source} -> ${destinationType} ${destination} (${text(b.routing_key, '')})`
    if (source === '') {
      unsupported.push({ kind: 'binding', name, vhost, reason: "the default exchange's bindings are implicit" })
      continue
    }
    if (destinationType === 'queue' && skippedQueues.has(`${vhost}\u0000${destination}`)) {
      unsupported.push({ kind: 'binding', name, vhost, reason: `its queue '${destination}' is not imported` })
      continue
    }
    steps.push({ kind: 'binding', vhost, source, destination, destinationType, routingKey: text(b.routing_key, ''), arguments: args(b.arguments) })
  }
  return { steps, unsupported }
}

/** False when the user is not imported (listed in unsupported). */
function planUser(u: Json, opts: PlanOptions, steps: Step[], unsupported: Unsupported[]): boolean {
  const name = text(u.name, '')
  if (name === opts.builtinUser) {
    unsupported.push({
      kind: 'user',
      name,
      reason: `'${name}' is built into Wharf (auth.guest: loopback only); a stored '${name}' would take its place and be reachable from the network`
    })
    return false
  }
  const hash = text(u.password_hash, '')
  const algorithm = text(u.hashing_algorithm, hash === '' ? '' : 'wharf_scrypt')
  let passwordHash: string
  if (hash === '') passwordHash = ''
  else if (isRabbitHashingAlgorithm(algorithm)) {
    const stored = rabbitStoredHash(algorithm, hash)
    if (stored === null) {
      unsupported.push({ kind: 'user', name, reason: `password_hash is not a valid ${algorithm} hash` })
      return false
    }
    passwordHash = stored
  } else if (algorithm === 'wharf_scrypt' && isPasswordHash(hash)) passwordHash = hash
  else {
    unsupported.push({
      kind: 'user',
      name,
      reason: `hashing_algorithm '${algorithm}' is not supported by Wharf (rabbit_password_hashing_sha256/sha512/md5, wharf_scrypt)`
    })
    return false
  }
  const listed = Array.isArray(u.tags)
    ? u.tags.map(String)
    : text(u.tags, '')
        .split(',')
        .map(t => t.trim())
        .filter(t => t !== '')
  const tags = listed.filter((t): t is UserTag => (userTags as readonly string[]).includes(t))
  for (const t of listed.filter(t => !(userTags as readonly string[]).includes(t))) {
    unsupported.push({
      kind: 'user tag',
      name: `${name}: ${t}`,
      reason: `tag '${t}' is not one Wharf knows (${userTags.join(', ')}); the user is imported without it`
    })
  }
  const scram = u.wharf_scram_sha256
  steps.push({ kind: 'user', user: { name, passwordHash, scramSha256: isScramCredentials(scram) ? (scram as string) : null, tags } })
  const limits = planLimits('user', name, u.limits, unsupported)
  if (limits !== undefined) steps.push(limits)
  return true
}

function items(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter((i): i is Json => typeof i === 'object' && i !== null && !Array.isArray(i)) : []
}

function text(v: unknown, fallback: string): string {
  return typeof v === 'string' ? v : fallback
}
function bool(v: unknown, fallback: boolean): boolean {
  return v === true || v === 'true' ? true : v === false || v === 'false' ? false : fallback
}
function args(v: unknown): Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? { ...(v as Json) } : {}
}
function nonEmpty(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : typeof v === 'object' && v !== null ? Object.keys(v).length > 0 : false
}
function nameOf(item: unknown): string {
  if (typeof item === 'object' && item !== null && 'name' in item) {
    const i = item as Json
    return typeof i.component === 'string' ? `${i.component}/${String(i.name)}` : String(i.name)
  }
  return JSON.stringify(item).slice(0, 80)
}
