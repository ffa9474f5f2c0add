// GET /api/definitions[/{vhost}] exports (definitions/export-definitions.ts); POST imports a file in
// RabbitMQ's format — one exported from RabbitMQ, or from Wharf — and answers what it imported, what
// Wharf does not support (each item with the reason) and what failed; 400 when anything failed.
import { json, type ApiCall, type Route } from '../api-router.ts'
import { vhostNamed } from '../management-context.ts'
import { exportDefinitions } from '../definitions/export-definitions.ts'
import { planImport } from '../definitions/import-plan.ts'
import { applyImport } from '../definitions/apply-import.ts'
import { GUEST } from '../../../core/auth/access-control.ts'

export const definitionsRoutes: Route[] = [
  { method: 'GET', path: '/api/definitions', handler: ({ ctx }) => json(exportDefinitions(ctx)) },
  { method: 'GET', path: '/api/definitions/:vhost', handler: ({ ctx, params }) => json(exportDefinitions(ctx, vhostNamed(ctx, params.vhost as string))) },
  { method: 'POST', path: '/api/definitions', handler: async call => await importFile(call, undefined) },
  { method: 'POST', path: '/api/definitions/:vhost', handler: async call => await importFile(call, vhostNamed(call.ctx, call.params.vhost as string).name) }
]

async function importFile(call: ApiCall, vhost: string | undefined) {
  const { ctx } = call
  const file = await call.body('import definitions')
  // The built-in guest stays built in, enabled or not: a file's guest would be a stored user any address may use.
  const plan = planImport(file, { ...(vhost === undefined ? {} : { vhost }), builtinUser: GUEST })
  const outcome = await applyImport(ctx, plan.steps)
  const body = { imported: outcome.imported, unsupported: plan.unsupported, failed: outcome.failed }
  if (outcome.failed.length === 0) return json(body)
  const first = outcome.failed[0]
  return json(
    {
      error: 'bad_request',
      reason: `import definitions: ${outcome.failed.length} failed, the first: ${first?.kind} '${first?.name}': ${first?.reason}`,
      ...body
    },
    400
  )
}
