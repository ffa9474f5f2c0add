// `wharf ctl close-connection NAME [--reason TEXT]`: AMQP clients get 320 CONNECTION_FORCED, MQTT 5
// clients DISCONNECT 0x98 (names as `wharf ctl list connections` shows them).
import { seg } from './admin-client.ts'
import { done, option, positional, type CtlCommand } from './ctl-io.ts'

export const closeConnection: CtlCommand = async ctx => {
  const [name] = positional(ctx, 1, 'close-connection NAME') as [string]
  const reason = option(ctx, 'reason')
  await ctx.client.delete(`/api/connections/${seg(name)}`, reason === undefined ? {} : { 'x-reason': reason })
  done(ctx, `connection ${name} closed`, { closed: name })
}
