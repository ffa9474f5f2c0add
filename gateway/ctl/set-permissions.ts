// `wharf ctl set-permissions USER CONFIGURE WRITE READ [--vhost V]`: as rabbitmqctl set_permissions.
import { seg } from './admin-client.ts'
import { done, positional, type CtlCommand } from './ctl-io.ts'

export const setPermissions: CtlCommand = async ctx => {
  const [user, configure, write, read] = positional(ctx, 4, 'set-permissions USER CONFIGURE WRITE READ') as [string, string, string, string]
  await ctx.client.put(`/api/permissions/${seg(ctx.vhost)}/${seg(user)}`, { configure, write, read })
  done(ctx, `permissions of ${user} in vhost ${ctx.vhost}: configure ${configure}, write ${write}, read ${read}`, {
    user,
    vhost: ctx.vhost,
    configure,
    write,
    read
  })
}
