// Reading the access store, RabbitMQ's resources (admin-access-routes.ts changes them):
//   GET /api/users[/{name}]   GET /api/users/{name}/permissions   GET /api/users/{name}/topic-permissions
//   GET /api/vhosts[/{name}]  GET /api/vhosts/{name}/permissions  GET /api/vhosts/{name}/topic-permissions
//   GET /api/permissions[/{vhost}/{user}]   GET /api/topic-permissions[/{vhost}/{user}]
// The built-in guest (auth.guest.enabled, not stored) is listed as the user it acts as, marked builtin.
// Vhosts carry their message counts, as RabbitMQ's do.
import type { StoredUser } from '../../../core/auth/access-types.ts'
import { fullPermissions } from '../../../core/auth/access-types.ts'
import { GUEST } from '../../../core/auth/access-control.ts'
import type { UserPermissions } from '../../../core/auth/access-store.ts'
import type { ManagementContext } from '../management-context.ts'
import { list, object, type ApiCall, type Route } from '../api-router.ts'
import { notFoundError } from '../api-error.ts'
import type { Json } from '../model-json.ts'

export const accessReadRoutes: Route[] = [
  { method: 'GET', path: '/api/users', handler: call => list(users(call)) },
  {
    method: 'GET',
    path: '/api/users/:name',
    handler: call =>
      object(
        found(
          users(call).find(u => u.name === call.params.name),
          `no user '${call.params.name}'`
        )
      )
  },
  { method: 'GET', path: '/api/users/:name/permissions', handler: ({ ctx, params }) => list(permissions(ctx).filter(p => p.user === params.name)) },
  { method: 'GET', path: '/api/users/:name/topic-permissions', handler: ({ ctx, params }) => list(topicPermissions(ctx).filter(p => p.user === params.name)) },
  { method: 'GET', path: '/api/vhosts', handler: ({ ctx }) => list(ctx.access.store.vhosts().map(v => vhostJson(ctx, v))) },
  {
    method: 'GET',
    path: '/api/vhosts/:name',
    handler: ({ ctx, params }) =>
      object(
        vhostJson(
          ctx,
          found(
            ctx.access.store.vhosts().find(v => v === params.name),
            `no vhost '${params.name}'`
          )
        )
      )
  },
  { method: 'GET', path: '/api/vhosts/:name/permissions', handler: ({ ctx, params }) => list(permissions(ctx).filter(p => p.vhost === params.name)) },
  {
    method: 'GET',
    path: '/api/vhosts/:name/topic-permissions',
    handler: ({ ctx, params }) => list(topicPermissions(ctx).filter(p => p.vhost === params.name))
  },
  { method: 'GET', path: '/api/permissions', handler: ({ ctx }) => list(permissions(ctx)) },
  {
    method: 'GET',
    path: '/api/permissions/:vhost/:user',
    handler: ({ ctx, params }) =>
      object(
        found(
          permissions(ctx).find(p => p.vhost === params.vhost && p.user === params.user),
          `no permissions for user '${params.user}' in vhost '${params.vhost}'`
        )
      )
  },
  { method: 'GET', path: '/api/topic-permissions', handler: ({ ctx }) => list(topicPermissions(ctx)) },
  {
    method: 'GET',
    path: '/api/topic-permissions/:vhost/:user',
    handler: ({ ctx, params }) => {
      const mine = topicPermissions(ctx).filter(p => p.vhost === params.vhost && p.user === params.user)
      if (mine.length === 0) throw notFoundError(`no topic permissions for user '${params.user}' in vhost '${params.vhost}'`)
      return list(mine)
    }
  }
]

/** Whether the built-in guest acts now (enabled, and no stored user took the name). */
export function builtinGuest(ctx: ManagementContext): boolean {
  return ctx.access.store.user(GUEST) === undefined && ctx.access.principal(GUEST) !== undefined
}

function users({ ctx, principal }: ApiCall): Json[] {
  // Password hashes are shown to administrators only (monitoring users read the rest).
  const showHash = principal.tags.includes('administrator')
  const out = ctx.access.store.users().map(u => userJson(u, showHash))
  if (builtinGuest(ctx)) out.push({ name: GUEST, tags: ['administrator'], limits: {}, has_password: true, has_scram_sha256: false, builtin: true })
  return out
}

export function userJson(u: StoredUser, showHash: boolean): Json {
  return {
    name: u.name,
    tags: [...u.tags],
    limits: {},
    ...(showHash && u.passwordHash !== '' ? { password_hash: u.passwordHash } : {}),
    hashing_algorithm: u.passwordHash === '' ? null : hashingAlgorithm(u.passwordHash),
    has_password: u.passwordHash !== '',
    has_scram_sha256: u.scramSha256 !== null
  }
}

/** The name RabbitMQ's definitions give the algorithm of a stored hash. */
export function hashingAlgorithm(hash: string): string {
  return hash.startsWith('rabbit_password_hashing_') ? hash.slice(0, hash.indexOf('$')) : 'wharf_scrypt'
}

function permissions(ctx: ManagementContext): Array<UserPermissions & Json> {
  const out: Array<UserPermissions & Json> = ctx.access.store.listPermissions().map(p => ({ ...p }))
  if (builtinGuest(ctx) && ctx.access.store.hasVhost('/')) out.push({ user: GUEST, vhost: '/', ...fullPermissions })
  return out
}

function topicPermissions(ctx: ManagementContext): Json[] {
  return ctx.access.store.listTopicPermissions().map(p => ({ ...p }))
}

function vhostJson(ctx: ManagementContext, name: string): Json {
  let ready = 0
  let unacked = 0
  for (const q of ctx.broker.vhost(name)?.queues.values() ?? []) {
    ready += q.messageCount
    unacked += q.unackedCount
  }
  return { name, description: '', tags: [], tracing: false, messages: ready + unacked, messages_ready: ready, messages_unacknowledged: unacked }
}

function found<T>(value: T | undefined, missing: string): T {
  if (value === undefined) throw notFoundError(missing)
  return value
}
