// `wharf ctl add-user NAME [--tags t1,t2]`: a user with a password asked without echo (or read from
// stdin), stored as a scrypt hash by the broker. An existing user gets the new password and tags.
import { seg } from './admin-client.ts'
import { done, option, positional, usageError, type CtlCommand } from './ctl-io.ts'
import { readPassword } from './password-prompt.ts'

export const addUser: CtlCommand = async ctx => {
  const [name] = positional(ctx, 1, 'add-user NAME') as [string]
  const tags = option(ctx, 'tags', '') as string
  const password = await readPassword(ctx.io, `Password for ${name}: `)
  if (password === '') throw usageError('add-user: empty password')
  await ctx.client.put(`/api/users/${seg(name)}`, { password, tags })
  done(ctx, `user ${name} saved${tags === '' ? '' : ` with tags ${tags}`}`, { user: name, tags: tags === '' ? [] : tags.split(',') })
}
