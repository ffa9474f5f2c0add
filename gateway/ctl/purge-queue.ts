// `wharf ctl purge-queue NAME [--vhost V]`: the queue's ready messages are dropped.
import { seg } from './admin-client.ts'
import { done, positional, type CtlCommand } from './ctl-io.ts'

export const purgeQueue: CtlCommand = async ctx => {
  const [name] = positional(ctx, 1, 'purge-queue NAME') as [string]
  const before = (await ctx.client.get(`/api/queues/${seg(ctx.vhost)}/${seg(name)}`)) as { messages_ready?: number }
  await ctx.client.delete(`/api/queues/${seg(ctx.vhost)}/${seg(name)}/contents`)
  done(ctx, `queue ${name} in vhost ${ctx.vhost} purged (${before.messages_ready ?? 0} ready messages before)`, { purged: name, vhost: ctx.vhost })
}
