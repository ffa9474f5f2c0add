// Applies an import plan in its order, each step on its own: a step that fails (a queue declared
// differently already, a binding whose exchange did not import) is reported with its error and the
// rest go on, as RabbitMQ's import does.
import type { ManagementContext } from '../management-context.ts'
import { managementOwner } from '../management-context.ts'
import type { Step } from './import-plan.ts'
import type { LimitsStep } from './limits-plan.ts'

export interface Failure {
  readonly kind: string
  readonly name: string
  readonly vhost?: string
  readonly reason: string
}

export interface ImportOutcome {
  readonly imported: Record<string, number>
  readonly failed: Failure[]
}

export async function applyImport(ctx: ManagementContext, steps: readonly Step[]): Promise<ImportOutcome> {
  // vhost_limits and user_limits appear when the file set any.
  const imported: Record<string, number> = { vhosts: 0, users: 0, permissions: 0, topic_permissions: 0, exchanges: 0, queues: 0, bindings: 0 }
  const failed: Failure[] = []
  for (const step of steps) {
    try {
      await apply(ctx, step)
      imported[countName(step)] = (imported[countName(step)] ?? 0) + 1
    } catch (err) {
      failed.push({ kind: step.kind, name: stepName(step), ...('vhost' in step ? { vhost: step.vhost } : {}), reason: (err as Error).message })
    }
  }
  return { imported, failed }
}

async function apply(ctx: ManagementContext, s: Step): Promise<void> {
  const store = ctx.access.store
  switch (s.kind) {
    case 'vhost':
      await store.addVhost(s.name)
      return
    case 'user':
      await store.putUser(s.user)
      return
    case 'permission':
      await store.setPermissions(s.user, s.vhost, { configure: s.configure, write: s.write, read: s.read })
      return
    case 'topic permission':
      await store.setTopicPermission(s.user, s.vhost, { exchange: s.exchange, write: s.write, read: s.read })
      return
    case 'exchange':
      await vhost(ctx, s.vhost).declareExchange(
        { name: s.name, type: s.type, durable: s.durable, autoDelete: s.autoDelete, internal: s.internal, arguments: s.arguments },
        false
      )
      return
    case 'queue':
      await vhost(ctx, s.vhost).declareQueue(
        { name: s.name, durable: s.durable, autoDelete: s.autoDelete, exclusive: false, arguments: s.arguments },
        managementOwner,
        false
      )
      return
    case 'limits':
      await applyLimits(ctx, s)
      return
    case 'binding':
      if (s.destinationType === 'queue') await vhost(ctx, s.vhost).bindQueue(s.destination, s.source, s.routingKey, s.arguments, managementOwner)
      else await vhost(ctx, s.vhost).bindExchange(s.destination, s.source, s.routingKey, s.arguments)
  }
}

function vhost(ctx: ManagementContext, name: string) {
  const v = ctx.broker.vhost(name)
  if (v === undefined) throw new Error(`no vhost '${name}'`)
  return v
}

/** Every limit of the file's object, as one: the object must exist (its vhost or user step came first). */
async function applyLimits(ctx: ManagementContext, s: LimitsStep): Promise<void> {
  const store = ctx.access.store
  if (s.target === 'vhost' ? !store.hasVhost(s.object) : store.user(s.object) === undefined) throw new Error(`no ${s.target} '${s.object}'`)
  for (const [name, value] of Object.entries(s.value)) await ctx.objectLimits.set(s.target, s.object, name, value)
}

function countName(s: Step): string {
  if (s.kind === 'limits') return `${s.target}_limits`
  return s.kind === 'topic permission' ? 'topic_permissions' : `${s.kind}s`
}

function stepName(s: Step): string {
  switch (s.kind) {
    case 'vhost':
      return s.name
    case 'user':
      return s.user.name
    case 'permission':
    case 'topic permission':
      return s.user
    case 'limits':
      return s.object
    case 'binding':
      return `${s.source} -> ${s.destinationType} ${s.destination} (${s.routingKey})`
    default:
      return s.name
  }
}
