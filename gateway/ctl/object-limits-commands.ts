// The limits of one vhost or one user, as rabbitmqctl sets them:
//   wharf ctl set-vhost-limits '{"max-connections": 10, "max-queues": 50}' [--vhost V]
//   wharf ctl clear-vhost-limits [NAME] [--vhost V]        every limit without NAME
//   wharf ctl set-user-limits USER '{"max-connections": 10, "max-channels": 20}'
//   wharf ctl clear-user-limits USER [NAME]
// A value of -1 clears that limit, as in RabbitMQ. Each limit is one PUT or DELETE on /api/*-limits.
import { seg } from './admin-client.ts'
import { done, usageError, type CtlCommand, type CtlContext } from './ctl-io.ts'

type Kind = 'vhost' | 'user'

export const setVhostLimits: CtlCommand = async ctx => {
  if (ctx.args.length !== 1) throw usageError(`expected set-vhost-limits JSON, e.g. '{"max-connections": 10}'`)
  await setLimits(ctx, 'vhost', ctx.vhost, ctx.args[0] as string)
}

export const clearVhostLimits: CtlCommand = async ctx => {
  if (ctx.args.length > 1) throw usageError('expected clear-vhost-limits [NAME]')
  await clearLimits(ctx, 'vhost', ctx.vhost, ctx.args[0])
}

export const setUserLimits: CtlCommand = async ctx => {
  if (ctx.args.length !== 2) throw usageError(`expected set-user-limits USER JSON, e.g. '{"max-channels": 20}'`)
  await setLimits(ctx, 'user', ctx.args[0] as string, ctx.args[1] as string)
}

export const clearUserLimits: CtlCommand = async ctx => {
  if (ctx.args.length < 1 || ctx.args.length > 2) throw usageError('expected clear-user-limits USER [NAME]')
  await clearLimits(ctx, 'user', ctx.args[0] as string, ctx.args[1])
}

async function setLimits(ctx: CtlContext, kind: Kind, object: string, text: string): Promise<void> {
  let limits: unknown
  try {
    limits = JSON.parse(text)
  } catch (err) {
    throw usageError(`set-${kind}-limits: the limits are not JSON: ${(err as Error).message}`)
  }
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits) || Object.keys(limits).length === 0) {
    throw usageError(`set-${kind}-limits: the limits must be a JSON object of limit names to integers, e.g. '{"max-connections": 10}'`)
  }
  for (const [name, value] of Object.entries(limits)) await ctx.client.put(`/api/${kind}-limits/${seg(object)}/${seg(name)}`, { value })
  done(ctx, `limits of ${kind} ${object} set: ${JSON.stringify(limits)}`, { [kind]: object, value: limits })
}

async function clearLimits(ctx: CtlContext, kind: Kind, object: string, name: string | undefined): Promise<void> {
  let names: string[]
  if (name !== undefined) names = [name]
  else {
    const listed = (await ctx.client.get(`/api/${kind}-limits/${seg(object)}`)) as Array<{ value: Record<string, number> }>
    names = listed.flatMap(l => Object.keys(l.value))
  }
  for (const n of names) await ctx.client.delete(`/api/${kind}-limits/${seg(object)}/${seg(n)}`)
  done(ctx, `limits of ${kind} ${object} cleared: ${names.length === 0 ? 'none were set' : names.join(', ')}`, { [kind]: object, cleared: names })
}
