// MQTT operations on the permission model, as RabbitMQ's MQTT plugin maps them:
//   CONNECT      access to the vhost (some permissions in it); 'vhost:user' in the username names the
//                vhost, else the listener's (mqtt.tls.vhost, mqtt.ws.vhost, mqtt.ws.tls.vhost, or mqtt.vhost).
//                So for every login: a password is checked for the user part; an enhanced method
//                (SCRAM) authenticates the user part ('vhost:' alone: the user the method proves); a
//                certificate login (identityAsUsername) takes 'vhost:<certificate user>' or 'vhost:'
//                and ignores any other username (RabbitMQ maps certificates to vhosts instead:
//                mqtt_default_vhosts, a mapping Wharf does not have)
//   PUBLISH      write on the MQTT exchange + topic write on the routing key (the will too, at CONNECT)
//   SUBSCRIBE    configure, write and read on the subscribing queue (the session's, or the $share group's),
//                read on the MQTT exchange + topic read on the binding key
//   UNSUBSCRIBE  what RabbitMQ checks to unbind: write on that queue, read on the MQTT exchange + topic
//                read on the binding key (rabbit_mqtt_processor's binding_action_with_checks)
// Anonymous clients act with full permissions in their listener's vhost, restricted by auth.defaultAcl.
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
  /** The MQTT exchange of every vhost (mqtt.exchange). */
  readonly exchange: string
  /** The vhosts of the MQTT listeners (mqtt.vhost and each listener's own): where anonymous clients may be. */
  readonly listenerVhosts: ReadonlySet<string>
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
  readonly exchange: string
  readonly allowAnonymous: boolean
  private readonly control: AccessControl
  private readonly anonymous: Principal

  constructor(opts: MqttAccessOptions) {
    this.control = opts.control
    this.exchange = opts.exchange
    this.allowAnonymous = opts.allowAnonymous
    const topic = aclTopicPermission(undefined, opts.defaultAcl, opts.exchange)
    this.anonymous = {
      username: null,
      tags: [],
      permissions: vhost => (opts.listenerVhosts.has(vhost) ? fullPermissions : undefined),
      topicPermission: (vhost, exchange) => (opts.listenerVhosts.has(vhost) && exchange === opts.exchange ? topic : undefined)
    }
  }

  /** A user whose name holds a colon keeps it whole when a user of that full name exists. */
  parseLoginName(field: string): MqttLoginName {
    const colon = field.lastIndexOf(':')
    if (colon < 0 || this.control.store.user(field) !== undefined) return { vhost: null, username: field }
    return { vhost: field.slice(0, colon), username: field.slice(colon + 1) }
  }

  /**
   * The vhost a certificate client names: a CONNECT username 'vhost:<certificate user>' or 'vhost:'
   * (split where the certificate user's name begins, so a name with a colon works too). Any other
   * username is ignored, as Mosquitto's use_identity_as_username ignores it: null, the listener's vhost.
   */
  certificateVhost(field: string | undefined, certificateUser: string): string | null {
    if (field === undefined || field === certificateUser || this.control.store.user(field) !== undefined) return null
    for (const suffix of [`:${certificateUser}`, ':']) {
      if (field.endsWith(suffix)) return field.slice(0, -suffix.length)
    }
    return null
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

  /**
   * The client's access in the vhost it named ('vhost:user', parsed at CONNECT) or else its listener's; null
   * principal = anonymous. Refused where the vhost does not exist or the user has no permissions in it.
   */
  open(principal: Principal | null, clientId: string, vhost: string | null, listenerVhost: string): Opened {
    const target = vhost ?? listenerVhost
    const who = principal ?? this.anonymous
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

  canUnsubscribe(access: VhostAccess, clientId: string, filter: string): boolean {
    return unsubscribeAllowed(access, this.exchange, clientId, filter)
  }
}

/** The queue a filter binds (the session's, or its $share group's) and its binding key; null: malformed. */
function subscription(clientId: string, filter: string): { queue: string; bindingKey: string } | null {
  const shared = parseSharedFilter(filter)
  if (typeof shared === 'string') return null
  const queue = shared === null ? sessionQueueName(clientId) : sharedQueueName(shared)
  return { queue, bindingKey: filterToBindingKey(shared === null ? filter : shared.filter) }
}

export function publishAllowed(access: VhostAccess, exchange: string, topic: string): boolean {
  return access.can('write', 'exchange', exchange) && access.canTopic('write', exchange, topicToRoutingKey(topic))
}

/** filter may be a '$share/group/filter'; a malformed one is refused (the grammar reports it first). */
export function subscribeAllowed(access: VhostAccess, exchange: string, clientId: string, filter: string): boolean {
  const s = subscription(clientId, filter)
  if (s === null) return false
  return access.can('configure', 'queue', s.queue) && access.can('read', 'queue', s.queue) && unbindAllowed(access, exchange, s)
}

/** As RabbitMQ's queue.unbind: the subscription goes only with the permissions its binding needed. */
export function unsubscribeAllowed(access: VhostAccess, exchange: string, clientId: string, filter: string): boolean {
  const s = subscription(clientId, filter)
  return s !== null && unbindAllowed(access, exchange, s)
}

function unbindAllowed(access: VhostAccess, exchange: string, s: { queue: string; bindingKey: string }): boolean {
  return access.can('write', 'queue', s.queue) && access.can('read', 'exchange', exchange) && access.canTopic('read', exchange, s.bindingKey)
}
