// What the management API works on, handed over by the composition root (gateway/wharf-node.ts):
// the model, the access store, the protocol adapters' connections, counters and node facts.
import type { Broker } from '../../core/model/broker.ts'
import type { Vhost } from '../../core/model/vhost.ts'
import type { AccessControl } from '../../core/auth/access-control.ts'
import type { ObjectLimitsStore } from '../../core/limits/object-limits-store.ts'
import type { Access, Principal, ResourceKind } from '../../core/auth/access-types.ts'
import type { ManagementRates } from './management-rates.ts'
import type { Json } from './model-json.ts'
import { ApiError, notFoundError } from './api-error.ts'

/** Connections of every protocol, as RabbitMQ's JSON shows them. */
export interface ConnectionSource {
  connections(): Json[]
  channels(): Json[]
  /** Takes a rate reading of every connection's and channel's counters, building no JSON (rate-sampling.ts). */
  sampleRates(): void
  /** false: no connection of that name. */
  close(name: string, reason: string): boolean
}

/** Totals since start of what message_stats reports. */
export interface MessageTotals {
  publish: number
  deliver_get: number
  ack: number
}

export interface ManagementContext {
  readonly broker: Broker
  readonly access: AccessControl
  /** Limits set per vhost and per user (RabbitMQ's vhost-limits and user-limits). */
  readonly objectLimits: ObjectLimitsStore
  readonly connections: ConnectionSource
  readonly rates: ManagementRates
  /** RabbitMQ names nodes rabbit@host; Wharf's is wharf@host. */
  readonly nodeName: string
  readonly version: string
  readonly startedAtMs: number
  /** Where MQTT clients live: their sessions are queues there, their subscriptions bindings on the exchange. */
  readonly mqtt: { readonly vhost: string; readonly exchange: string }
  nowMs(): number
  messageTotals(): MessageTotals
  /** More of /api/overview: the store's figures, the cold tier. */
  overviewExtras(): Json
}

/** The owner the management API acts as on the model: it holds no exclusive queue. */
export const managementOwner: object = Object.freeze({ owner: 'management api' })

export function vhostNamed(ctx: ManagementContext, name: string): Vhost {
  const v = ctx.broker.vhost(name)
  if (v === undefined) throw notFoundError(`no vhost '${name}'`)
  return v
}

/**
 * As RabbitMQ's management plugin acts through the user's own permissions: declaring needs configure,
 * publishing write, get and purge read on the resource, in a vhost the user has access to.
 */
export function authorize(ctx: ManagementContext, principal: Principal, vhost: string, access: Access, kind: ResourceKind, name: string): void {
  const va = ctx.access.vhostAccess(principal, vhost, principal.username === null ? { vhost } : { username: principal.username, vhost })
  if (va === undefined) throw new ApiError(403, `user '${principal.username ?? ''}' has no access to vhost '${vhost}'`)
  va.check(access, kind, name)
}
