// `wharf ctl import-definitions FILE`: a definitions file (exported from RabbitMQ or Wharf) into the
// broker; prints what was imported and each item Wharf does not support, with the reason. Exit 1
// when an item failed to import.
import { readFileSync } from 'node:fs'
import { CtlError, exitRefused, positional, usageError, type CtlCommand } from './ctl-io.ts'

interface Outcome {
  imported: Record<string, number>
  unsupported: Array<{ kind: string; name: string; vhost?: string; reason: string }>
  failed: Array<{ kind: string; name: string; reason: string }>
}

export const importDefinitions: CtlCommand = async ctx => {
  const [file] = positional(ctx, 1, 'import-definitions FILE') as [string]
  let defs: unknown
  try {
    defs = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw usageError(`import-definitions: ${file}: ${(err as Error).message}`)
  }
  let outcome: Outcome
  try {
    outcome = (await ctx.client.post('/api/definitions', defs)) as Outcome
  } catch (err) {
    throw err instanceof CtlError ? new CtlError(err.exitCode, `import-definitions ${file}: ${err.message}`) : err
  }
  if (ctx.json) {
    ctx.io.stdout.write(JSON.stringify(outcome) + '\n')
    return
  }
  const counts = Object.entries(outcome.imported)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ')
  ctx.io.stdout.write(`imported from ${file}: ${counts === '' ? 'nothing' : counts}\n`)
  if (outcome.unsupported.length > 0) {
    ctx.io.stdout.write(`not imported (${outcome.unsupported.length}):\n`)
    for (const u of outcome.unsupported) ctx.io.stdout.write(`  ${u.kind} ${u.name}${u.vhost === undefined ? '' : ` (vhost ${u.vhost})`}: ${u.reason}\n`)
  }
  if (outcome.failed.length > 0)
    throw new CtlError(
      exitRefused,
      `import-definitions ${file}: ${outcome.failed.length} failed: ${outcome.failed.map(f => `${f.kind} ${f.name}: ${f.reason}`).join('; ')}`
    )
}
