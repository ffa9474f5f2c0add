// POST /api/exchanges/{vhost}/{name}/publish: one message through the exchange, as a client's publish
// (write permission, and topic permission on a topic exchange); answers {"routed": bool} once a
// persistent message is committed to every durable queue it reached.
import { object, type ApiCall, type Route } from '../api-router.ts'
import { vhostNamed } from '../management-context.ts'
import { ApiError } from '../api-error.ts'
import { publishedMessage } from '../message-json.ts'
import { exchangeName } from './exchanges.ts'

export const publishRoutes: Route[] = [{ method: 'POST', path: '/api/exchanges/:vhost/:name/publish', handler: publish }]

async function publish({ ctx, params, principal, body }: ApiCall) {
  const v = vhostNamed(ctx, params.vhost as string)
  const name = exchangeName(params.name as string)
  const b = await body(`publish to exchange '${params.name}'`)
  const message = publishedMessage(name, b, ctx.nowMs(), principal.username)
  const va = ctx.access.vhostAccess(principal, v.name, principal.username === null ? { vhost: v.name } : { username: principal.username, vhost: v.name })
  if (va === undefined) throw new ApiError(403, `user '${principal.username ?? ''}' has no access to vhost '${v.name}'`)
  va.check('write', 'exchange', name)
  if (v.exchange(name).type.name === 'topic') va.checkTopic('write', name, message.routingKey)
  const result = v.publish(name, message)
  await result.stored
  return object({ routed: result.routed > 0 })
}
