// MQTT operations on the permission model, as RabbitMQ's MQTT plugin maps them:
//   CONNECT    access to the vhost (some permissions in it); 'vhost:user' in the username names the vhost
//   PUBLISH    write on the MQTT exchange + topic write on the routing key (the will too, at CONNECT)
//   SUBSCRIBE  configure, write and read on the subscribing queue (the session's, or the $share group's),
//              read on the MQTT exchange + topic read on the binding key
// Anonymous clients act with full permissions in the listener's vhost, restricted by auth.defaultAcl.
import type { Principal } from '../../core/auth/access-types.ts'
import { fullPermissions } from '../../core/auth/access-types.ts'
import type { AccessControl } from '../../core/auth/access-control.ts'
import type { VhostAccess } from '../../core/auth/vhost-access.ts'
import { vhostRefusal } from '../../core/auth/access-check.ts'
import type { AclConfig } from '../../edge-config/config-types.ts'
import { aclTopicPermission, mqttTopicVariables } from './topic-acl.ts'
import { filterToBindingKey, parseSharedFilter, sessionQueueName, sharedQueueName, topicToRoutingKey } from './topic-grammar.ts'

export interface MqttAccessOptions {
  readonly control: AccessControl
  /** The listener's vhost (mqtt.vhost) and exchange (mqtt.exchange). */
  readonly vhost: string
  readonly exchange: string
  readonly allowAnonymous: boolean
  /** auth.defaultAcl: the topic permission of anonymous clients. */
  readonly defaultAcl: AclConfig
}

/** The CONNECT username as RabbitMQ reads it: 'vhost:user' names a vhost (split at the last colon). */
export interface MqttLoginName {
  readonly vhost: string | null
  readonly username: string
}

export type Opened = { ok: true; access: VhostAccess } | { ok: false; reason: string }

export class MqttAccess {
  readonly vhost: string
  readonly exchange: string
  readonly allowAnonymous: boolean
  private readonly control: AccessControl
  private readonly anonymous: Principal

  constructor(opts: MqttAccessOptions) {
    this.control = opts.control
    this.vhost = opts.vhost
    this.exchange = opts.exchange
    this.allowAnonymous = opts.allowAnonymous
    const topic = aclTopicPermission(undefined, opts.defaultAcl, opts.exchange)
    this.anonymous = {
      username: null,
      tags: [],
      permissions: vhost => (vhost === opts.vhost ? fullPermissions : undefined),
      topicPermission: (vhost, exchange) => (vhost === opts.vhost && exchange === opts.exchange ? topic : undefined)
    }
  }

  /** A user whose name holds a colon keeps it whole when a user of that full name exists. */
  parseLoginName(field: string): MqttLoginName {
    const colon = field.lastIndexOf(':')
    if (colon < 0 || this.control.store.user(field) !== undefined) return { vhost: null, username: field }
    return { vhost: field.slice(0, colon), username: field.slice(colon + 1) }
  }

  login(username: string, password: string, remoteAddress: string | null): ReturnType<AccessControl['login']> {
    return this.control.login(username, password, remoteAddress)
  }

  /** A user named by a verified client certificate (identityAsUsername). */
  certificateLogin(username: string, source: string): ReturnType<AccessControl['certificateLogin']> {
    return this.control.certificateLogin(username, source)
  }

  /** A user proven by an enhanced authentication method (SCRAM). */
  principal(username: string): Principal | undefined {
    return this.control.principal(username)
  }

  /** The client's access in the vhost it asked for ('vhost:user') or the listener's; null principal = anonymous. */
  open(principal: Principal | null, clientId: string, vhost: string | null): Opened {
    const target = vhost ?? this.vhost
    const who = principal ?? this.anonymous
    // One engine serves one vhost: a client may name it, not another (RabbitMQ would move it there).
    if (target !== this.vhost) return { ok: false, reason: `vhost '${target}' is not served by this MQTT listener (mqtt.vhost is '${this.vhost}')` }
    const access = this.control.vhostAccess(who, target, mqttTopicVariables(who.username, clientId, target))
    if (access === undefined) return { ok: false, reason: vhostRefusal(target, who.username) }
    return { ok: true, access }
  }

  canPublish(access: VhostAccess, topic: string): boolean {
    return publishAllowed(access, this.exchange, topic)
  }

  canSubscribe(access: VhostAccess, clientId: string, filter: string): boolean {
    return subscribeAllowed(access, this.exchange, clientId, filter)
  }
}

export function publishAllowed(access: VhostAccess, exchange: string, topic: string): boolean {
  return access.can('write', 'exchange', exchange) && access.canTopic('write', exchange, topicToRoutingKey(topic))
}

/** filter may be a '$share/group/filter'; a malformed one is refused (the grammar reports it first). */
export function subscribeAllowed(access: VhostAccess, exchange: string, clientId: string, filter: string): boolean {
  const shared = parseSharedFilter(filter)
  if (typeof shared === 'string') return false
  const queue = shared === null ? sessionQueueName(clientId) : sharedQueueName(shared)
  const bindingKey = filterToBindingKey(shared === null ? filter : shared.filter)
  return (
    access.can('configure', 'queue', queue) &&
    access.can('write', 'queue', queue) &&
    access.can('read', 'queue', queue) &&
    access.can('read', 'exchange', exchange) &&
    access.canTopic('read', exchange, bindingKey)
  )
}
