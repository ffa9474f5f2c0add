// The permission checks as pure functions, and the refusals worded as RabbitMQ words them (clients,
// logs and operators know the text).
import type { Access, ResourceKind, TopicAccess, TopicPermission, TopicVariables, VhostPermissions } from './access-types.ts'
import { matchNothing, permissionMatches } from './permission-regex.ts'

/** RabbitMQ checks the default exchange ("") under this name. */
export const DEFAULT_EXCHANGE_PERMISSION_NAME = 'amq.default'

export function resourceAllowed(perms: VhostPermissions | undefined, access: Access, kind: ResourceKind, name: string): boolean {
  if (perms === undefined) return false
  const checked = kind === 'exchange' && name === '' ? DEFAULT_EXCHANGE_PERMISSION_NAME : name
  return permissionMatches(perms[access], checked)
}

/** No topic permission for the exchange: allowed (RabbitMQ: topic authorisation is opt-in per exchange). */
export function topicAllowed(perm: TopicPermission | undefined, access: TopicAccess, routingKey: string, vars: TopicVariables): boolean {
  if (perm === undefined) return true
  return permissionMatches(expandTopicVariables(perm[access], vars), routingKey)
}

const variablePattern = /\{(username|vhost|client_id)\}/g
const wordBreakers = /[.*#]/
const regexSpecials = /[.*+?^${}()|[\]\\]/g

/**
 * {username}, {vhost} and {client_id} replaced by their values, escaped so a value is matched as
 * itself (RabbitMQ inserts values raw: a client id '.*' would then match every key). A value that is
 * absent, or holds '.', '*' or '#', would reach beyond one word of the routing key (client 'a.b' into
 * the keys of client 'a'): it is replaced by a group that matches nothing, so the alternative holding
 * it fails and the others of the regex still apply.
 */
export function expandTopicVariables(regex: string, vars: TopicVariables): string {
  return regex.replace(variablePattern, (_all, name: keyof TopicVariables) => {
    const value = vars[name]
    if (value === undefined || wordBreakers.test(value)) return matchNothing
    return value.replace(regexSpecials, '\\$&')
  })
}

export function describeResource(kind: ResourceKind, name: string, vhost: string): string {
  const shown = kind === 'exchange' && name === '' ? DEFAULT_EXCHANGE_PERMISSION_NAME : name
  return `${kind} '${shown}' in vhost '${vhost}'`
}

export function resourceRefusal(access: Access, kind: ResourceKind, name: string, vhost: string, username: string | null): string {
  return `${access} access to ${describeResource(kind, name, vhost)} refused for user '${username ?? ''}'`
}

export function topicRefusal(access: TopicAccess, routingKey: string, exchange: string, vhost: string, username: string | null): string {
  return `${access} access to topic '${routingKey}' in exchange '${exchange}' in vhost '${vhost}' refused for user '${username ?? ''}'`
}

export function vhostRefusal(vhost: string, username: string | null): string {
  return `access to vhost '${vhost}' refused for user '${username ?? ''}'`
}
