// Per-vhost and per-user limits, RabbitMQ's resources (same paths, JSON and statuses):
//   GET /api/vhost-limits   GET /api/vhost-limits/{vhost}   PUT|DELETE /api/vhost-limits/{vhost}/{name}
//   GET /api/user-limits    GET /api/user-limits/{user}     PUT|DELETE /api/user-limits/{user}/{name}
// A PUT takes {"value": N}; -1 clears the limit. Reads need monitoring, changes administrator
// (admin-auth.ts decides by method, as for every /api path).
import type { LimitKind, ObjectLimits } from '../../../core/limits/object-limits-store.ts'
import { checkLimit } from '../../../core/limits/object-limits-store.ts'
import { GUEST } from '../../../core/auth/access-control.ts'
import type { ManagementContext } from '../management-context.ts'
import { list, noContent, type ApiCall, type Route } from '../api-router.ts'
import { badRequest, notFoundError } from '../api-error.ts'

const objectField: Record<LimitKind, string> = { vhost: 'vhost', user: 'user' }

export const objectLimitRoutes: Route[] = (['vhost', 'user'] as const).flatMap(kind => {
  const base = `/api/${kind}-limits`
  const json = (l: ObjectLimits) => ({ [objectField[kind]]: l.object, value: { ...l.value } })
  return [
    { method: 'GET', path: base, handler: ({ ctx }) => list(ctx.objectLimits.list(kind).map(json)) },
    {
      method: 'GET',
      path: `${base}/:object`,
      handler: ({ ctx, params }) =>
        list(
          ctx.objectLimits
            .list(kind)
            .filter(l => l.object === params.object)
            .map(json)
        )
    },
    {
      method: 'PUT',
      path: `${base}/:object/:name`,
      handler: async call => {
        const { object, name } = call.params as { object: string; name: string }
        mustExist(call.ctx, kind, object)
        const body = await call.body(`set ${kind} limit '${name}' of '${object}'`)
        if (!('value' in body)) throw badRequest(`set ${kind} limit '${name}' of '${object}': the body needs a "value" (an integer, -1 for no limit)`)
        checkLimit(kind, name, body.value)
        await call.ctx.objectLimits.set(kind, object, name, body.value)
        return noContent
      }
    },
    {
      method: 'DELETE',
      path: `${base}/:object/:name`,
      handler: async ({ ctx, params }: ApiCall) => {
        const { object, name } = params as { object: string; name: string }
        mustExist(ctx, kind, object)
        checkLimit(kind, name, 0)
        await ctx.objectLimits.clear(kind, object, name)
        return noContent
      }
    }
  ] satisfies Route[]
})

function mustExist(ctx: ManagementContext, kind: LimitKind, object: string): void {
  const store = ctx.access.store
  const exists = kind === 'vhost' ? store.hasVhost(object) : store.user(object) !== undefined || object === GUEST
  if (!exists) throw notFoundError(`no ${kind} '${object}'`)
}
