// GET /api/definitions[/{vhost}]: what a RabbitMQ export holds, in its format, so the file imports
// into RabbitMQ or Wharf: users (password hashes with their hashing_algorithm: wharf_scrypt or RabbitMQ's
// for users imported from it, and their limits), vhosts (their limits as 'vhost-limits' parameters, as
// RabbitMQ keeps them), permissions, topic permissions, exchanges, queues and bindings.
// Left out, as RabbitMQ leaves them out: the default and amq.* exchanges, exclusive queues, and the
// built-in guest; and, being MQTT state the engine owns, session queues, shared-subscription groups
// and their bindings. A vhost's export holds only its exchanges, queues and bindings.
import type { Queue } from '../../../core/model/queue.ts'
import type { Vhost } from '../../../core/model/vhost.ts'
import type { ManagementContext } from '../management-context.ts'
import { hashingAlgorithm } from '../routes/access-reads.ts'
import { plainArguments, type Json } from '../model-json.ts'
import { vhostLimitsComponent } from './limits-plan.ts'

const MQTT_STATE_PREFIXES = ['mqtt-session/', 'mqtt-share/']

export function exportDefinitions(ctx: ManagementContext, onlyVhost?: Vhost): Json {
  const vhosts = onlyVhost === undefined ? [...ctx.broker.vhosts.values()] : [onlyVhost]
  const objects = {
    exchanges: vhosts.flatMap(v =>
      [...v.exchanges.values()]
        .filter(x => x.name !== '' && !x.name.startsWith('amq.'))
        .map(x => ({
          name: x.name,
          vhost: x.vhost,
          type: x.type.name,
          durable: x.durable,
          auto_delete: x.autoDelete,
          internal: x.internal,
          arguments: plainArguments(x.args)
        }))
    ),
    queues: vhosts.flatMap(v =>
      [...v.queues.values()].filter(exported).map(q => ({
        name: q.name,
        vhost: q.vhost,
        durable: q.durable,
        auto_delete: q.autoDelete,
        arguments: plainArguments(q.args)
      }))
    ),
    bindings: vhosts.flatMap(bindingsOf)
  }
  const head = { product_name: 'Wharf', product_version: ctx.version }
  // RabbitMQ keeps a vhost's limits as its 'vhost-limits' parameter, and exports them so.
  const parameters = ctx.objectLimits
    .list('vhost')
    .filter(l => vhosts.some(v => v.name === l.object))
    .map(l => ({ vhost: l.object, component: vhostLimitsComponent, name: 'limits', value: { ...l.value } }))
  if (onlyVhost !== undefined) return { ...head, parameters, policies: [], ...objects }
  const store = ctx.access.store
  return {
    ...head,
    users: store.users().map(u => ({
      name: u.name,
      password_hash: u.passwordHash.startsWith('rabbit_password_hashing_') ? u.passwordHash.slice(u.passwordHash.indexOf('$') + 1) : u.passwordHash,
      hashing_algorithm: u.passwordHash === '' ? 'wharf_scrypt' : hashingAlgorithm(u.passwordHash),
      tags: [...u.tags],
      limits: { ...ctx.objectLimits.limitsOf('user', u.name) },
      ...(u.scramSha256 === null ? {} : { wharf_scram_sha256: u.scramSha256 })
    })),
    vhosts: store.vhosts().map(name => ({ name, limits: [], metadata: { description: '', tags: [] } })),
    permissions: store.listPermissions().map(p => ({ user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read })),
    topic_permissions: store.listTopicPermissions().map(p => ({ user: p.user, vhost: p.vhost, exchange: p.exchange, write: p.write, read: p.read })),
    parameters,
    global_parameters: [],
    policies: [],
    ...objects
  }
}

function exported(q: Queue): boolean {
  return q.exclusiveOwner === null && !MQTT_STATE_PREFIXES.some(p => q.name.startsWith(p))
}

function bindingsOf(v: Vhost): Json[] {
  const out: Json[] = []
  for (const x of v.exchanges.values()) {
    if (x.name === '') continue
    for (const b of x.bindings.values()) {
      const d = b.destination
      if (d.kind === 'sink' || (d.kind === 'queue' && !exported(d))) continue
      out.push({
        source: x.name,
        vhost: v.name,
        destination: d.name,
        destination_type: d.kind,
        routing_key: b.routingKey,
        arguments: plainArguments(b.arguments)
      })
    }
  }
  return out
}
