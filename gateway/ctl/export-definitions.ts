// `wharf ctl export-definitions [FILE]`: the definitions (RabbitMQ's format), to FILE or stdout.
import { writeFileSync } from 'node:fs'
import { done, type CtlCommand, usageError } from './ctl-io.ts'

export const exportDefinitions: CtlCommand = async ctx => {
  if (ctx.args.length > 1) throw usageError('expected export-definitions [FILE]')
  const defs = await ctx.client.get('/api/definitions')
  const text = JSON.stringify(defs, null, 2) + '\n'
  const file = ctx.args[0]
  if (file === undefined) {
    ctx.io.stdout.write(text)
    return
  }
  writeFileSync(file, text)
  const counts = Object.fromEntries(
    Object.entries(defs as Record<string, unknown>)
      .filter(([, v]) => Array.isArray(v))
      .map(([k, v]) => [k, (v as unknown[]).length])
  )
  done(
    ctx,
    `definitions written to ${file}: ${Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}`,
    { file, counts }
  )
}
