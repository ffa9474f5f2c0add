// `wharf ctl delete-queue NAME [--vhost V] [--if-empty] [--if-unused]`: also an MQTT session
// (mqtt-session/<client id>), which ends it.
import { seg } from './admin-client.ts'
import { done, flag, positional, type CtlCommand } from './ctl-io.ts'

export const deleteQueue: CtlCommand = async ctx => {
  const [name] = positional(ctx, 1, 'delete-queue NAME') as [string]
  const query = [flag(ctx, 'if-empty') ? 'if-empty=true' : '', flag(ctx, 'if-unused') ? 'if-unused=true' : ''].filter(q => q !== '').join('&')
  await ctx.client.delete(`/api/queues/${seg(ctx.vhost)}/${seg(name)}${query === '' ? '' : `?${query}`}`)
  done(ctx, `queue ${name} in vhost ${ctx.vhost} deleted`, { deleted: name, vhost: ctx.vhost })
}
